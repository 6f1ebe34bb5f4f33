/**
 * @file The image-browser part of `npm run bench`:
 *  - grid scroll frame times in headless Chromium over a 100k-image project (the real UI against
 *    the real server, `npm run serve`): steady wheel scrolling (thumbnails load as they come into
 *    view), a fling (thumbnails held until it settles), and scrollbar jumps to a random place every
 *    frame (pages of 200 fetched on demand). Target: median frame <= 16.7 ms. Under vsync a frame
 *    is never shorter than 16.7 ms, so the median says whether frames are dropped; the renderer's
 *    main-thread CPU time per frame says what a frame costs even on a machine busy with other work;
 *    the unthrottled run (vsync off) shows the frame time without the display's pace;
 *  - thumbnail rate: real photos (coco8, 640 px) through makeThumbnails, 2 at a time;
 *  - tile pyramid: cutting a 9000x7000 JPEG into 512 px DeepZoom tiles.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { ImagePage, JobInfo } from '../src/shared/types';
import { importDataset } from '../src/main/dataset/import';
import { ensurePyramid } from '../src/main/images/pyramid';
import type { ImageSource } from '../src/main/images/cache-files';
import { makeThumbnails } from '../src/main/images/thumbnails';
import { LabelStore } from '../src/main/store/label-store';
import { chromiumPath, repoRoot, startServe, apiCall } from '../test/helpers/e2e';
import { makeLargeYolo } from './make-large-yolo';
import { percentile, type Figure, type Log, type PartResult } from './types';

/** The few page globals the page functions use (this file is typed for Node, without the DOM lib). */
interface PageGlobals {
  document: { querySelector(selector: string): { scrollTop: number; scrollHeight: number; clientHeight: number } | null };
  requestAnimationFrame(cb: (now: number) => void): void;
}

const FRAME_BUDGET_MS = 16.7;
const FRAMES = 240;

interface Scenario {
  name: string;
  /** Wheel events of `px` every 16 ms ('steady', 'fling'), or a random position every frame ('jump'). */
  step: 'steady' | 'fling' | 'jump';
  px: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'steady wheel scroll (40 px per event)', step: 'steady', px: 40 },
  { name: 'fling (400 px per wheel event)', step: 'fling', px: 400 },
  { name: 'scrollbar jumps (random place every frame)', step: 'jump', px: 0 },
];

export async function runBrowserGridBench(opts: { log: Log }): Promise<PartResult> {
  const { log } = opts;
  const figures: Figure[] = [];
  const info: Record<string, unknown> = { cpus: os.cpus().length };

  const projectDir = await benchProject(log);
  const scroll = await measureScrolling(projectDir, log);
  for (const s of scroll) {
    figures.push({ name: `grid ${s.name}: median frame`, measured: s.vsync.median, unit: 'ms', target: FRAME_BUDGET_MS });
    figures.push({ name: `grid ${s.name}: p95 frame`, measured: s.vsync.p95, unit: 'ms', target: null });
    figures.push({ name: `grid ${s.name}: main-thread CPU per frame`, measured: s.vsync.mainCpu, unit: 'ms', target: FRAME_BUDGET_MS });
    figures.push({ name: `grid ${s.name}: median frame, unthrottled`, measured: s.free.median, unit: 'ms', target: null });
  }
  info.scroll = scroll;

  const thumbs = await measureThumbnails(log);
  figures.push({ name: `thumbnails of ${thumbs.images} photos (~640 px), 2 at a time`, measured: thumbs.rate, unit: 'img/s', target: null });
  info.thumbnails = thumbs;

  const tiles = await measurePyramid(log);
  figures.push({ name: 'tile pyramid of a 9000x7000 JPEG (512 px JPEG tiles)', measured: tiles.sec, unit: 's', target: null });
  info.pyramid = tiles;
  return { part: 'browser', figures, info };
}

// ---- the 100k-image project (made once, reused) ---------------------------------------------------

async function benchProject(log: Log): Promise<string> {
  const ds = await makeLargeYolo({ log });
  const dir = path.join(path.dirname(ds.dir), 'browser-project-100k');
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) {
    log(`browser: reusing the project at ${dir}`);
    return dir;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  log(`browser: importing ${ds.yamlPath} into ${dir} (once; reused by later runs)`);
  const store = LabelStore.create(dir, 'browser bench');
  try {
    importDataset(store, { format: 'yolo', source: ds.yamlPath });
  } finally {
    store.close();
  }
  fs.writeFileSync(marker, `${ds.images}\n`);
  return dir;
}

// ---- scrolling ------------------------------------------------------------------------------------

interface FrameStats {
  median: number;
  p95: number;
  max: number;
  /** Frames longer than one vsync interval (a dropped frame or more). */
  over: number;
  /** Renderer main-thread CPU time per frame: the page's own cost, whatever else loads the machine. */
  mainCpu: number;
}

async function measureScrolling(projectDir: string, log: Log) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-bench-browser-'));
  const app = await startServe(home, ['--project', projectDir]);
  const empty: FrameStats = { median: 0, p95: 0, max: 0, over: 0, mainCpu: 0 };
  const results = SCENARIOS.map((s) => ({ name: s.name, vsync: { ...empty }, free: { ...empty }, loadAvg: 0 }));
  try {
    for (const mode of ['vsync', 'free'] as const) {
      // Unthrottled: no vsync and no frame-rate cap, so a frame takes as long as its work.
      const extra = mode === 'free' ? ['--disable-gpu-vsync', '--disable-frame-rate-limit'] : [];
      const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', ...extra] });
      try {
        const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
        // tsx (esbuild keepNames) wraps named functions in __name(); the page functions need it too.
        await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
        await page.goto(app.url);
        await page.locator('[data-testid=image-cell][data-image-id]').first().waitFor({ timeout: 60_000 });
        await stopThumbnailJob(page);
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Performance.enable');
        const threadTime = async (): Promise<number> =>
          (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? 0;
        const total = (await apiCall<ImagePage>(page, 'images.page', { limit: 1 })).total;
        const grid = page.getByTestId('image-grid');
        log(`browser: ${mode}: grid of ${total} images, ${await grid.getAttribute('data-cols')} columns`);
        const box = (await grid.boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        for (const [i, s] of SCENARIOS.entries()) {
          await page.evaluate(() => {
            (globalThis as unknown as PageGlobals).document.querySelector('[data-testid=image-grid]')!.scrollTop = 0;
          });
          await page.waitForTimeout(500);
          const cpu0 = await threadTime();
          const deltas = await scrollFrames(page, s, FRAMES);
          const mainCpu = ((await threadTime()) - cpu0) * 1000 / deltas.length;
          const stats = { ...frameStats(deltas), mainCpu: Math.round(mainCpu * 100) / 100 };
          results[i]![mode] = stats;
          results[i]!.loadAvg = os.loadavg()[0]!;
          log(
            `browser: ${mode}: ${s.name}: median ${stats.median.toFixed(2)} ms, p95 ${stats.p95.toFixed(2)} ms, ` +
              `${stats.over} of ${deltas.length} over ${FRAME_BUDGET_MS} ms; main-thread CPU ${stats.mainCpu.toFixed(2)} ms/frame ` +
              `(load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
          );
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await app.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
  return results;
}

/**
 * Scrolls the grid for `frames` animation frames and returns the time between frames. Steady and
 * fling scroll with the mouse wheel (input events, as a person does); jumps set the position from
 * requestAnimationFrame, as dragging the scrollbar does.
 */
async function scrollFrames(page: Page, s: Scenario, frames: number): Promise<number[]> {
  const recording = page.evaluate(
    ([jump, n]) =>
      new Promise<number[]>((resolve) => {
        const g = globalThis as unknown as PageGlobals;
        const grid = g.document.querySelector('[data-testid=image-grid]')!;
        const range = grid.scrollHeight - grid.clientHeight;
        const deltas: number[] = [];
        let last = 0;
        let seed = 7;
        const tick = (now: number): void => {
          if (last) deltas.push(now - last);
          last = now;
          if (jump) grid.scrollTop = ((seed = (seed * 16807) % 2147483647) / 2147483647) * range;
          if (deltas.length < n) g.requestAnimationFrame(tick);
          else resolve(deltas);
        };
        g.requestAnimationFrame(tick);
      }),
    [s.step === 'jump', frames] as const,
  );
  if (s.step !== 'jump') {
    let done = false;
    void recording.finally(() => (done = true));
    while (!done) {
      await page.mouse.wheel(0, s.px);
      await new Promise((r) => setTimeout(r, 16));
    }
  }
  return recording;
}

function frameStats(deltas: number[]): Omit<FrameStats, 'mainCpu'> {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    median: r(percentile(deltas, 50)),
    p95: r(percentile(deltas, 95)),
    max: r(Math.max(...deltas)),
    over: deltas.filter((d) => d > FRAME_BUDGET_MS + 0.5).length,
  };
}

/** The background job would make 100k thumbnails during the measurement: cancel it (cells still get theirs on demand). */
async function stopThumbnailJob(page: Page): Promise<void> {
  const jobs = await apiCall<JobInfo[]>(page, 'jobs.list', {});
  for (const j of jobs) if (j.kind === 'thumbnails' && j.state === 'running') await apiCall(page, 'jobs.cancel', { id: j.id });
}

// ---- thumbnails and tiles -------------------------------------------------------------------------

async function measureThumbnails(log: Log): Promise<{ images: number; sec: number; rate: number }> {
  const coco8 = path.resolve(repoRoot, '../shared/data/coco8/images');
  const photos = ['train', 'val'].flatMap((s) => fs.readdirSync(path.join(coco8, s)).map((f) => `${s}/${f}`));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-bench-thumbs-'));
  // The same eight photos under 400 made-up hashes: each is decoded and encoded anew (no cache hit).
  const sources: ImageSource[] = Array.from({ length: 400 }, (_, i) => ({
    path: photos[i % photos.length]!,
    hash: i.toString(16).padStart(40, '0'),
  }));
  const files = { root, absolutePath: (rel: string) => path.join(coco8, ...rel.split('/')) };
  const t0 = performance.now();
  const summary = await makeThumbnails(files, sources, { signal: new AbortController().signal, progress: () => undefined });
  const sec = (performance.now() - t0) / 1000;
  fs.rmSync(root, { recursive: true, force: true });
  const rate = Math.round((summary.images / sec) * 10) / 10;
  log(`browser: ${summary.images} thumbnails in ${sec.toFixed(2)} s: ${rate} img/s`);
  return { images: summary.images, sec: Math.round(sec * 100) / 100, rate };
}

async function measurePyramid(log: Log): Promise<{ sec: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-bench-tiles-'));
  try {
    const rects = [0, 1, 2, 3, 4, 5].map((i) => ({
      input: { create: { width: 800 + i * 300, height: 600 + i * 200, channels: 3 as const, background: ['#d33', '#3d3', '#33d', '#dd3', '#3dd', '#d3d'][i]! } },
      left: 300 + i * 1200,
      top: 200 + i * 900,
    }));
    await sharp({ create: { width: 9000, height: 7000, channels: 3, background: '#556677' } })
      .composite(rects)
      .jpeg({ quality: 90 })
      .toFile(path.join(root, 'big.jpg'));
    const files = { root, absolutePath: (rel: string) => path.join(root, rel) };
    const t0 = performance.now();
    await ensurePyramid(files, { path: 'big.jpg', hash: 'f'.repeat(40), width: 9000, height: 7000 });
    const sec = Math.round((performance.now() - t0) / 10) / 100;
    log(`browser: 9000x7000 pyramid cut in ${sec} s`);
    return { sec };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
