/**
 * Real Chromium against `npm run serve`: a run trains in the server, the server is killed with
 * SIGKILL after the run's first epoch (workers and all, as in a crash), a new server opens the
 * project: the run shows as interrupted, and its Resume button continues it to the end.
 * Needs `npm run build:web` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, TrainRunSummary } from '../../src/shared/types';
import { saveCheckpoint } from '../../src/main/model/checkpoint';
import { YoloModel } from '../../src/main/model/yolo';
import { SAMPLE_CLASSES } from '../../src/main/project/sample';
import { apiCall, repoRoot, type ServedApp, startServe, useE2e } from '../helpers/e2e';
import { tinyYolo11Yaml } from '../helpers/model-fixtures';
import { trainingBackend } from '../helpers/train-backend';

const screenshots = path.join(repoRoot, 'test-results/screenshots');

let checkpoint: string;
let device: 'wasm' | 'cpu';
const apps: ServedApp[] = [];

const e2e = useE2e('boxtune-e2e-interrupted-', {
  serve: false, // the test starts, kills and restarts its own servers
  prepare: async (home) => {
    device = await trainingBackend();
    const model = YoloModel.fromYaml(tinyYolo11Yaml(SAMPLE_CLASSES.length), SAMPLE_CLASSES.length, [...SAMPLE_CLASSES], { seed: 0 });
    checkpoint = path.join(home, 'tiny.safetensors');
    saveCheckpoint(checkpoint, model);
    model.dispose();
  },
});

afterAll(async () => {
  for (const app of apps) await app.stop();
});

describe('a run whose server was killed', () => {
  it('shows as interrupted in the Train view and resumes from its Resume button', async () => {
    const first = await startServe(e2e.home);
    apps.push(first);
    const page = await e2e.browser.newPage({ viewport: { width: 1280, height: 860 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(first.url);
    await page.getByTestId('open-sample').click();
    await page.getByTestId('browser-view').waitFor({ timeout: 90_000 });
    const dir = (await apiCall<AppInfo>(page, 'app.info', {})).project!.root;

    // Two epochs; the kill lands once the first is saved, while the second trains.
    await apiCall(page, 'train.start', { model: checkpoint, epochs: 2, imgsz: 64, batch: 4, device });
    await expect
      .poll(async () => (await apiCall<TrainRunSummary[]>(page, 'train.runs', {}))[0]?.epochsDone ?? 0, { timeout: 120_000, interval: 100 })
      .toBe(1);
    await first.kill();

    const second = await startServe(e2e.home);
    apps.push(second);
    await page.goto(second.url);
    await apiCall(page, 'project.open', { dir });
    await page.getByTestId('nav-train').click();
    const run = page.getByTestId('train-run').first();
    await expect.poll(() => run.getAttribute('data-status'), { timeout: 30_000 }).toBe('interrupted');
    expect(await run.textContent()).toContain('interrupted');
    expect(await run.textContent()).toContain('1/2 ep');
    expect(await page.getByTestId('summary-ending').textContent()).toContain('interrupted');
    await page.screenshot({ path: path.join(screenshots, 'train-interrupted.png') });

    const resume = page.getByTestId('train-resume');
    expect(await resume.textContent()).toBe('Resume from epoch 2');
    await resume.click();
    await page.locator('[data-testid=train-summary][data-status=done]').waitFor({ timeout: 150_000 });
    await expect.poll(() => page.getByTestId('summary-epochs').textContent()).toBe('2 / 2');
    await expect.poll(() => run.getAttribute('data-status')).toBe('done');
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
