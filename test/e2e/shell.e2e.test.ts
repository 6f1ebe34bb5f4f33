/**
 * Real Chromium driving the real UI against `npm run serve`: create a project, import coco8 as an
 * Ultralytics data.yaml through the import dialog, see its 8 images listed; a browser without the
 * token is refused. Needs `npm run build:web` first (npm run test:e2e does it).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type ServedApp, useE2e, openPage } from '../helpers/e2e';

// shared/ sits beside the checkout, wherever it is cloned.
const coco8 = path.resolve(repoRoot, '../shared/data/coco8');
const coco8Yaml = path.join(coco8, 'coco8.yaml');
const screenshots = path.join(repoRoot, 'test-results/screenshots');
const shot = (name: string): string => path.join(screenshots, `${name}.png`);

const e2e = useE2e('boxtune-e2e-');

/** The file names coco8 holds, from disk, so the test follows the dataset rather than a copy of it. */
function coco8Names(): string[] {
  return ['train', 'val'].flatMap((split) => fs.readdirSync(path.join(coco8, 'images', split))).sort();
}

async function rowNames(page: Page): Promise<string[]> {
  const paths = await page.locator('[data-testid=image-cell][data-image-id] [data-testid=cell-name]').evaluateAll((els) => els.map((e) => e.getAttribute('data-path') ?? ''));
  return paths.map((p) => p.split('/').at(-1) ?? p).sort();
}

describe('browser shell', () => {
  it('imports coco8 through the UI and lists its 8 images', async () => {
    const { context, page, errors: pageErrors } = await openPage(e2e.browser);

    // The launch URL swaps the token for a cookie and lands on / without it.
    await page.goto(e2e.app.url);
    expect(new URL(page.url()).search).toBe('');
    await page.getByTestId('start-view').waitFor();
    await page.screenshot({ path: shot('start') });

    const projectDir = path.join(e2e.home, 'projects', 'coco8-e2e');
    await page.getByTestId('create-dir').fill(projectDir);
    await page.getByTestId('create-name').fill('coco8 e2e');
    await page.getByTestId('create-submit').click();
    await page.getByTestId('project-view').waitFor();
    expect(await page.getByTestId('project-name').textContent()).toBe('coco8 e2e');
    expect(fs.existsSync(path.join(projectDir, 'boxtune.db'))).toBe(true);

    await page.getByTestId('import-button').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor();
    await page.getByTestId('import-format').selectOption({ label: 'Ultralytics data.yaml' });
    await page.getByTestId('import-source').fill(coco8Yaml);
    await page.getByTestId('import-start').click();
    await dialog.waitFor({ state: 'detached' });

    // The job reports its end in the panel, and the list fills in without a reload.
    await page.locator('[data-testid=job-card][data-kind=import][data-state=done]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid=image-cell][data-image-id]').nth(7).waitFor();
    expect(await page.locator('[data-testid=image-cell][data-image-id]').count()).toBe(8);
    expect(await rowNames(page)).toEqual(coco8Names());
    expect(await page.getByTestId('count-images').textContent()).toBe('8');
    expect(await page.getByTestId('image-total').textContent()).toContain('8 images');
    expect(await page.getByTestId('count-split-train').textContent()).toBe('4');
    expect(await page.getByTestId('count-split-val').textContent()).toBe('4');

    // Thumbnails come through the authenticated image route (cookie + CSP img-src 'self').
    // (Page functions rather than strings: the page's CSP forbids eval, which string predicates need.)
    const thumbs = page.locator('[data-testid=image-cell] img');
    type Img = { complete: boolean; naturalWidth: number };
    // The first thumbnails wait for the image worker threads to start (a wait, not a speed check).
    await expect
      .poll(() => thumbs.evaluateAll((els) => els.filter((e) => (e as unknown as Img).complete && (e as unknown as Img).naturalWidth > 0).length), { timeout: 15_000 })
      .toBe(8);

    // Filters: the val split holds 4 of them.
    const rows = page.locator('[data-testid=image-cell][data-image-id]');
    await page.getByTestId('filter-split').selectOption('val');
    await expect.poll(() => rows.count()).toBe(4);
    expect(await page.getByTestId('image-total').textContent()).toContain('4 of 8 images');
    await page.getByTestId('filter-split').selectOption('');
    await page.locator('[data-testid=image-cell][data-image-id]').nth(7).waitFor();

    await page.mouse.move(0, 0); // no hover highlight in the picture
    await page.screenshot({ path: shot('shell') });
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('shows an IMPORT_INVALID failure with every problem as file:line', async () => {
    const bad = path.join(e2e.home, 'bad');
    fs.mkdirSync(path.join(bad, 'images', 'train'), { recursive: true });
    fs.mkdirSync(path.join(bad, 'labels', 'train'), { recursive: true });
    fs.copyFileSync(path.join(coco8, 'images', 'train', coco8Names().find((n) => n.endsWith('.jpg'))!), path.join(bad, 'images', 'train', 'a.jpg'));
    fs.writeFileSync(path.join(bad, 'labels', 'train', 'a.txt'), '0 0.5 0.5 0.2\n7 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(bad, 'data.yaml'), 'path: .\ntrain: images/train\nval: images/train\nnames: [thing]\n');

    const context = await e2e.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(e2e.app.url);
    await page.getByTestId('project-view').waitFor(); // the server still has the coco8 project open
    await page.getByTestId('import-button').click();
    await page.getByTestId('import-format').selectOption('yolo');
    await page.getByTestId('import-source').fill(path.join(bad, 'data.yaml'));
    await page.getByTestId('import-start').click();

    const failed = page.locator('[data-testid=job-card][data-state=failed]');
    await failed.waitFor({ timeout: 60_000 });
    const problems = await failed.getByTestId('job-problems').locator('li').allTextContents();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/a\.txt:1: /);
    expect(problems[1]).toMatch(/a\.txt:2: /);
    expect(await page.getByTestId('count-images').textContent()).toBe('8'); // all or nothing
    await page.screenshot({ path: shot('import-failed') });
    await context.close();
  });

  it('refuses a browser that has no token', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const landing = await page.goto(`${e2e.app.origin}/`);
    expect(landing?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('npm start');

    const status = await page.evaluate(async () => {
      const res = await fetch('/api/project.info', { method: 'POST', body: '{}', credentials: 'same-origin' });
      return { status: res.status, body: (await res.json()) as unknown };
    });
    expect(status).toEqual({ status: 401, body: { ok: false, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) } });

    expect((await page.goto(`${e2e.app.origin}/?token=not-the-token`))?.status()).toBe(401);
    await context.close();
  });
});
