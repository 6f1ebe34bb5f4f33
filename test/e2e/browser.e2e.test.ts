/**
 * The image browser in real Chromium against `npm run serve`: open the sample project, see the
 * thumbnail grid fill in (thumbnails made by the background job, shown in the job panel), filter
 * by split, class, status and file name and watch the counts follow the store, move with the
 * arrow keys, open an image (the Label view shows that id), come back to the same filter and the
 * same image focused. Screenshots go to test-results/screenshots/browser-*.png.
 * Needs `npm run build:web` first (npm run test:e2e does it).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagePage, ImageFilter } from '../../src/shared/types';
import { apiCall, repoRoot, type ServedApp, useE2e, openPage } from '../helpers/e2e';

const screenshots = path.join(repoRoot, 'test-results/screenshots');
const shot = (name: string): string => path.join(screenshots, `browser-${name}.png`);

const e2e = useE2e('boxtune-e2e-browser-');

/** Calls the Api from the page, with its cookie: what the store says, to compare the screen with. */
const totalOf = async (page: Page, filter: ImageFilter): Promise<number> =>
  (await apiCall<ImagePage>(page, 'images.page', { filter, limit: 1 })).total;

const cells = (page: Page) => page.locator('[data-testid=image-cell][data-image-id]');
const totalText = (page: Page) => page.getByTestId('image-total');

describe('image browser', () => {
  it('shows thumbnails, filters with counts, opens an image and comes back to the same filter', async () => {
    const { context, page, errors: pageErrors } = await openPage(e2e.browser);

    await page.goto(e2e.app.url);
    await page.getByTestId('open-sample').click();
    await page.getByTestId('browser-view').waitFor({ timeout: 90_000 });
    await cells(page).first().waitFor({ timeout: 60_000 });
    const all = await totalOf(page, {});
    expect(all).toBe(60);
    await expect.poll(() => totalText(page).textContent()).toBe('60 images');

    // The grid fills the width with fixed-size cells; only the rows in view (plus a few) exist.
    const cols = Number(await page.getByTestId('image-grid').getAttribute('data-cols'));
    expect(cols).toBeGreaterThanOrEqual(5);
    const rendered = await cells(page).count();
    expect(rendered).toBeLessThan(all);
    expect(rendered % cols).toBe(0);

    // Thumbnails: the background job reports in the panel, and every cell in view shows its WebP.
    await page.locator('[data-testid=job-card][data-kind=thumbnails]').first().waitFor({ timeout: 30_000 });
    const thumbs = page.locator('[data-testid=image-cell] img');
    type Img = { complete: boolean; naturalWidth: number; currentSrc: string };
    await expect
      .poll(() => thumbs.evaluateAll((els) => els.filter((e) => (e as unknown as Img).complete && (e as unknown as Img).naturalWidth > 0).length), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(cols * 3);
    expect(await thumbs.first().evaluate((e) => (e as unknown as Img).currentSrc)).toMatch(/\/api\/images\/\d+\/thumb\?v=[0-9a-f]{16}$/);
    await page.locator('[data-testid=job-card][data-kind=thumbnails][data-state=done]').first().waitFor({ timeout: 60_000 });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: shot('grid') });

    // Mark two images reviewed (through the Api) so the status filter has something to find.
    const firstIds = (await apiCall<ImagePage>(page, 'images.page', { limit: 3 })).items.map((i) => i.id);
    for (const id of firstIds.slice(0, 2)) await apiCall(page, 'images.setStatus', { id, status: 'reviewed' });

    // Split.
    await page.getByTestId('filter-split').selectOption('val');
    const val = await totalOf(page, { split: 'val' });
    expect(val).toBeGreaterThan(0);
    expect(val).toBeLessThan(all);
    await expect.poll(() => totalText(page).textContent()).toBe(`${val} of 60 images`);
    await expect.poll(() => cells(page).count()).toBe(val);
    expect(new Set(await cells(page).getByTestId('cell-split').allTextContents())).toEqual(new Set(['val']));

    // Class (with the split still set).
    const classes = await apiCall<{ id: number; name: string }[]>(page, 'classes.list', {});
    const square = classes.find((c) => c.name === 'square')!;
    await page.getByTestId('filter-class').selectOption(String(square.id));
    const valSquare = await totalOf(page, { split: 'val', classId: square.id });
    await expect.poll(() => totalText(page).textContent()).toBe(`${valSquare} of 60 images`);
    await expect.poll(() => cells(page).count()).toBe(Math.min(valSquare, rendered));

    // Status: only the two reviewed ones, whatever their split.
    await page.getByTestId('filter-clear').click();
    await expect.poll(() => totalText(page).textContent()).toBe('60 images');
    await page.getByTestId('filter-status').selectOption('reviewed');
    await expect.poll(() => totalText(page).textContent()).toBe('2 of 60 images');
    expect((await cells(page).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))))).sort()).toEqual(firstIds.slice(0, 2).sort());
    expect(await cells(page).getByTestId('cell-status').first().getAttribute('class')).toContain('reviewed');
    await page.getByTestId('filter-status').selectOption('');

    // File-name search (debounced): "_001" matches shapes_0010 .. shapes_0019.
    await page.getByTestId('filter-search').fill('_001');
    const searched = await totalOf(page, { search: '_001' });
    expect(searched).toBe(10);
    await expect.poll(() => totalText(page).textContent()).toBe('10 of 60 images');
    const names = await cells(page).getByTestId('cell-name').allTextContents();
    expect(names.every((n) => n.includes('_001'))).toBe(true);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: shot('filtered') });

    // Keyboard: the first arrow focuses the first cell, then right, right, down; Enter opens it.
    await page.getByTestId('filter-search').fill('');
    await page.getByTestId('filter-split').selectOption('train');
    const train = await totalOf(page, { split: 'train' });
    await expect.poll(() => totalText(page).textContent()).toBe(`${train} of 60 images`);
    await page.getByTestId('image-grid').focus();
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown']) await page.keyboard.press(key);
    const focused = page.locator('[data-testid=image-cell][aria-selected=true]');
    expect(await focused.getAttribute('data-index')).toBe(String(2 + cols));
    expect(await page.getByTestId('image-grid').getAttribute('aria-activedescendant')).toBe(`cell-${2 + cols}`);
    const target = Number(await focused.getAttribute('data-image-id'));
    const trainIds = (await apiCall<ImagePage>(page, 'images.page', { filter: { split: 'train' }, limit: 200 })).items.map((i) => i.id);
    expect(target).toBe(trainIds[2 + cols]);
    await page.keyboard.press('Enter');
    const route = page.getByTestId('label-route');
    await route.waitFor();
    expect(Number(await route.getAttribute('data-image-id'))).toBe(target);
    await page.screenshot({ path: shot('label') });

    // Back: same filter, same count, the image still focused.
    await page.getByTestId('label-back').click();
    await page.getByTestId('browser-view').waitFor();
    expect(await page.getByTestId('filter-split').inputValue()).toBe('train');
    await expect.poll(() => totalText(page).textContent()).toBe(`${train} of 60 images`);
    await expect.poll(() => page.locator('[data-testid=image-cell][aria-selected=true]').getAttribute('data-image-id')).toBe(String(target));

    // A click opens too.
    const clicked = cells(page).nth(1);
    const clickedId = await clicked.getAttribute('data-image-id');
    await clicked.click();
    expect(await route.getAttribute('data-image-id')).toBe(clickedId);
    await page.getByTestId('label-back').click();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: shot('back') });

    // The list layout shows the same filtered images.
    await page.getByTestId('layout-list').click();
    const rows = page.locator('[data-testid=image-row][data-image-id]');
    await rows.first().waitFor();
    const listed = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))));
    expect(listed.every((id) => trainIds.includes(id))).toBe(true);
    await page.screenshot({ path: shot('list') });
    await page.getByTestId('layout-grid').click();
    await cells(page).first().waitFor();

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
