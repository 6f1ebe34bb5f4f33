/**
 * A very large image in the Label view (real Chromium, real server): zoomed out it is drawn from the
 * server's preview, never the full file; at 100 % the DeepZoom tiles of the visible region load on
 * demand, and panning brings the next ones. Screenshot: test-results/screenshots/label-tiles.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type ServedApp, useE2e } from '../helpers/e2e';
import { makeLabelProject, scatterBoxes } from '../helpers/label-fixtures';

const W = 6000;
const H = 4000;

let page: Page;
let imageId: number;
const requests: string[] = [];
const pageErrors: string[] = [];

const e2e = useE2e('boxtune-label-large-', {
  prepare: async (home) => {
    const root = path.join(home, 'project');
    const ids = await makeLabelProject(root, {
      classes: ['car', 'person'],
      images: [{ name: 'huge.jpg', width: W, height: H, hue: 100, boxes: scatterBoxes(60, W, H, 2, 3, 80, 400) }],
    });
    imageId = ids.get('huge.jpg')!;
    return ['--project', root];
  },
});

beforeAll(async () => {
  page = await (await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

const canvas = (): ReturnType<Page['getByTestId']> => page.getByTestId('annotation-canvas');
const tileRequests = (): string[] => requests.filter((p) => p.startsWith(`/api/images/${imageId}/tiles/`));

describe('Label view with a 6000x4000 image', () => {
  it('draws the preview zoomed out and full-resolution tiles where zoomed in', async () => {
    await page.goto(e2e.app.url);
    await page.locator(`[data-testid=image-cell][data-image-id="${imageId}"]`).click();
    // The first image waits for the image worker threads to start and the preview to be made.
    await expect.poll(() => canvas().getAttribute('data-box-count'), { timeout: 15_000 }).toBe('60');
    await expect.poll(() => requests.includes(`/api/images/${imageId}/preview`), { timeout: 15_000 }).toBe(true);
    expect(requests).not.toContain(`/api/images/${imageId}/file`);
    expect(tileRequests()).toEqual([]);

    // 100 %: the tiles of the top level (13 for 6000 px) under the view load.
    await page.keyboard.press('Control+1');
    await expect.poll(() => tileRequests().length, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(tileRequests().every((p) => /\/tiles\/13\/\d+_\d+\.jpeg$/.test(p))).toBe(true);
    const first = new Set(tileRequests());
    // A 1400x900 window at 100 % shows at most 4x3 of the 512 px tiles (plus the cache margin).
    expect(first.size).toBeLessThanOrEqual(30);

    // Panning (middle button) far enough asks for tiles not loaded before.
    const box = (await canvas().boundingBox())!;
    const c = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await page.mouse.move(c.x, c.y);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(c.x - 900, c.y - 600, { steps: 10 });
    await page.mouse.up({ button: 'middle' });
    await expect.poll(() => tileRequests().some((p) => !first.has(p)), { timeout: 60_000 }).toBe(true);
    await page.waitForTimeout(1500);
    await page.mouse.move(5, 5);
    await page.screenshot({ path: path.join(repoRoot, 'test-results/screenshots/label-tiles.png') });
    expect(requests).not.toContain(`/api/images/${imageId}/file`);
    expect(pageErrors).toEqual([]);
  });
});
