/**
 * The Label view in real Chromium against the real server, driven like a person: mouse drags on
 * the canvas and key presses, never Api calls. Every step is checked in the project's SQLite file
 * (opened read-only beside the running server), not only on screen. Screenshots of the canvas with
 * 2,000 boxes, the class manager and the ? overlay go to test-results/screenshots/label-*.png.
 * Needs `npm run build:web` first (npm run test:e2e does it).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type ServedApp, useE2e } from '../helpers/e2e';
import { makeLabelProject, scatterBoxes } from '../helpers/label-fixtures';

const screenshots = path.join(repoRoot, 'test-results/screenshots');
const shot = (name: string): string => path.join(screenshots, `label-${name}.png`);

let root: string;
let context: BrowserContext;
let page: Page;
let ids: Map<string, number>;
const pageErrors: string[] = [];

const CLASSES = ['car', 'person', 'bike'];
const W = 800;
const H = 600;

const e2e = useE2e('boxtune-label-e2e-', {
  prepare: async (home) => {
    root = path.join(home, 'project');
    ids = await makeLabelProject(root, {
      name: 'label e2e',
      classes: CLASSES,
      images: [
        { name: 'a1.jpg', width: W, height: H, split: 'train', hue: 200 },
        { name: 'a2.jpg', width: W, height: H, split: 'train', hue: 140 },
        { name: 'a3.jpg', width: W, height: H, split: 'val', hue: 20 },
        { name: 'a4.jpg', width: W, height: H, split: 'val', hue: 260, boxes: [{ classIndex: 0, x: 50, y: 60, w: 120, h: 80 }] },
        { name: 'a5.jpg', width: W, height: H, split: 'val', hue: 320 },
        { name: 'many.jpg', width: 4096, height: 3072, split: 'test', hue: 40, boxes: scatterBoxes(2000, 4096, 3072, 3) },
      ],
    });
  },
});

beforeAll(async () => {
  context = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
});

afterAll(async () => {
  await context?.close();
});

// ---- the SQLite file ----------------------------------------------------------------------------

interface BoxRow {
  id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Reads the project database the way another program would: a fresh read-only connection. */
function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(root, 'boxtune.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const boxesOf = (name: string): BoxRow[] => query<BoxRow>('SELECT id, class_id, x, y, w, h FROM boxes WHERE image_id = ? ORDER BY id', id(name));
const statusOf = (name: string): string => query<{ status: string }>('SELECT status FROM images WHERE id = ?', id(name))[0]!.status;
const classId = (name: string): number => query<{ id: number }>('SELECT id FROM classes WHERE name = ?', name)[0]!.id;

function id(name: string): number {
  const v = ids.get(name);
  if (v === undefined) throw new Error(`no image ${name}`);
  return v;
}

// ---- the page -----------------------------------------------------------------------------------

const canvas = (): ReturnType<Page['getByTestId']> => page.getByTestId('annotation-canvas');

/**
 * Waits until the canvas shows `name` with `boxes` boxes. The first image of a session waits for the
 * image worker threads to start (seconds from source on a loaded machine); speed is the bench's job.
 */
async function onImage(name: string, boxes?: number): Promise<void> {
  await expect.poll(() => canvas().getAttribute('data-image-id'), { timeout: 15_000 }).toBe(String(id(name)));
  if (boxes !== undefined) await expect.poll(() => canvas().getAttribute('data-box-count')).toBe(String(boxes));
}

/** Page coordinates of an image point, from the view the canvas reports. */
async function at(p: { x: number; y: number }): Promise<{ x: number; y: number }> {
  const view = (await canvas().getAttribute('data-view'))?.split(',').map(Number);
  const box = await canvas().boundingBox();
  if (!view || view.length !== 3 || !box) throw new Error('canvas has no view yet');
  const [scale, vx, vy] = view as [number, number, number];
  return { x: box.x + vx + p.x * scale, y: box.y + vy + p.y * scale };
}

async function scale(): Promise<number> {
  return Number((await canvas().getAttribute('data-view'))?.split(',')[0]);
}

async function drag(from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  const a = await at(from);
  const b = await at(to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
}

async function clickImage(p: { x: number; y: number }): Promise<void> {
  const a = await at(p);
  await page.mouse.click(a.x, a.y);
}

async function openFromBrowser(name: string): Promise<void> {
  await page.locator(`[data-testid=image-cell][data-image-id="${id(name)}"]`).click();
  await page.getByTestId('label-view').waitFor();
  await onImage(name);
  // The first frame has fitted the image (the view is what the coordinates are computed from).
  await expect.poll(async () => (await canvas().getAttribute('data-view')) !== null).toBe(true);
  await page.waitForTimeout(150);
}

/** Geometry of a box row, rounded to the tolerance a screen pixel allows at this zoom. */
function near(actual: number, expected: number, tol: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}

describe('Label view', () => {
  it('opens an image from the browser', async () => {
    await page.goto(e2e.app.url);
    await page.getByTestId('open-dir').fill(root);
    await page.getByTestId('open-submit').click();
    await page.getByTestId('project-view').waitFor();
    await openFromBrowser('a1.jpg');
    expect(await page.getByTestId('label-position').textContent()).toBe('1 / 6');
    expect(await page.getByTestId('label-status').getAttribute('data-status')).toBe('unlabeled');
  });

  it('draws a box, resizes it by a handle, moves it and sets its class with a digit', async () => {
    const tol = 1.5 / (await scale()) + 0.02;
    // Draw mode (W), then a drag: the box is saved at once, and the image becomes labeled.
    await page.keyboard.press('w');
    expect(await canvas().getAttribute('data-mode')).toBe('draw');
    await drag({ x: 100, y: 100 }, { x: 300, y: 250 });
    await expect.poll(() => boxesOf('a1.jpg').length).toBe(1);
    let [b] = boxesOf('a1.jpg');
    near(b!.x, 100, tol);
    near(b!.y, 100, tol);
    near(b!.w, 200, tol);
    near(b!.h, 150, tol);
    expect(b!.class_id).toBe(classId('car')); // the first class until a digit picks another
    expect(statusOf('a1.jpg')).toBe('labeled');
    // The new box is selected: its bottom-right handle resizes it.
    await expect.poll(() => canvas().getAttribute('data-selected')).toBe(String(b!.id));
    await drag({ x: b!.x + b!.w, y: b!.y + b!.h }, { x: b!.x + b!.w + 40, y: b!.y + b!.h + 30 });
    await expect.poll(() => Math.round(boxesOf('a1.jpg')[0]!.w)).toBe(240);
    [b] = boxesOf('a1.jpg');
    near(b!.x, 100, tol);
    near(b!.h, 180, tol);

    // Select mode (W again), drag the box by its middle.
    await page.keyboard.press('w');
    expect(await canvas().getAttribute('data-mode')).toBe('select');
    await drag({ x: b!.x + b!.w / 2, y: b!.y + b!.h / 2 }, { x: b!.x + b!.w / 2 + 50, y: b!.y + b!.h / 2 + 20 });
    await expect.poll(() => Math.round(boxesOf('a1.jpg')[0]!.x)).toBe(150);
    const moved = boxesOf('a1.jpg')[0]!;
    near(moved.y, 120, tol);
    near(moved.w, b!.w, 0.001);
    near(moved.h, b!.h, 0.001);

    // A digit gives the selected box the second class; arrows nudge it.
    await page.keyboard.press('2');
    await expect.poll(() => boxesOf('a1.jpg')[0]!.class_id).toBe(classId('person'));
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await expect.poll(() => boxesOf('a1.jpg')[0]!.y).toBeCloseTo(moved.y + 10, 5);
    expect(boxesOf('a1.jpg')[0]!.x).toBeCloseTo(moved.x + 1, 5);
    await page.mouse.move(5, 5);
    await page.screenshot({ path: shot('drawn') });
  });

  it('copies the box to the next image with Ctrl+C / Ctrl+V, and with the copy-previous key', async () => {
    const src = boxesOf('a1.jpg')[0]!;
    await page.keyboard.press('Control+c');
    await page.keyboard.press('d');
    await onImage('a2.jpg', 0);
    expect(await page.getByTestId('label-position').textContent()).toBe('2 / 6');
    await page.keyboard.press('Control+v');
    await expect.poll(() => boxesOf('a2.jpg').length).toBe(1);
    expect(boxesOf('a2.jpg')[0]).toMatchObject({ class_id: src.class_id, x: src.x, y: src.y, w: src.w, h: src.h });

    // On the next image, Ctrl+B brings every box of the image just left.
    await page.keyboard.press('d');
    await onImage('a3.jpg', 0);
    await page.keyboard.press('Control+b');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(1);
    expect(boxesOf('a3.jpg')[0]).toMatchObject({ class_id: src.class_id, x: src.x, y: src.y, w: src.w, h: src.h });
    expect(statusOf('a3.jpg')).toBe('labeled');
  });

  it('deletes, undoes and redoes (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y)', async () => {
    const b = boxesOf('a3.jpg')[0]!;
    await page.keyboard.press('Escape'); // nothing selected
    await expect.poll(() => canvas().getAttribute('data-selected')).toBe('');
    await clickImage({ x: b.x + b.w / 2, y: b.y + b.h / 2 });
    await expect.poll(() => canvas().getAttribute('data-selected')).toBe(String(b.id));
    await page.keyboard.press('Delete');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(0);
    await onImage('a3.jpg', 0);

    await page.keyboard.press('Control+z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(1);
    expect(boxesOf('a3.jpg')[0]).toMatchObject({ id: b.id, x: b.x, y: b.y }); // the same box, back
    // The status line says what Ctrl+Z undid.
    await expect.poll(() => page.getByTestId('label-notice').textContent()).toBe("Undid: delete box 'person' on a3.jpg");
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(1);
    await page.keyboard.press('Control+y');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(1);
    await onImage('a3.jpg', 1);
    expect(await page.getByTestId('redo-button').isEnabled()).toBe(true);
  });

  it('walks back with A, marks an image reviewed, and never fires shortcuts while typing', async () => {
    await page.keyboard.press('a');
    await onImage('a2.jpg', 1);
    await page.keyboard.press('a');
    await onImage('a1.jpg', 1);
    expect(await page.getByTestId('label-position').textContent()).toBe('1 / 6');
    await page.keyboard.press('v');
    await expect.poll(() => statusOf('a1.jpg')).toBe('reviewed');
    await expect.poll(() => page.getByTestId('label-status').getAttribute('data-status')).toBe('reviewed');

    // Typing "d" and "2" in the class search filters the list; the image and its box stay as they are.
    await page.getByTestId('class-search').click();
    await page.keyboard.type('d2');
    await page.waitForTimeout(200);
    await onImage('a1.jpg', 1);
    expect(boxesOf('a1.jpg')[0]!.class_id).toBe(classId('person'));
    await page.getByTestId('class-search').fill('');
    await page.keyboard.press('Escape'); // leaves the field
  });

  it('navigates with D / A in the order of a browser filter', async () => {
    await page.keyboard.press('b');
    await page.getByTestId('browser-view').waitFor();
    await page.getByTestId('filter-split').selectOption('val');
    await expect.poll(() => page.locator('[data-testid=image-cell][data-image-id]').count()).toBe(3);
    await openFromBrowser('a3.jpg');
    expect(await page.getByTestId('label-position').textContent()).toBe('1 / 3');
    await page.keyboard.press('d');
    await onImage('a4.jpg', 1);
    await expect.poll(() => page.getByTestId('label-position').textContent()).toBe('2 / 3');
    await page.keyboard.press('d');
    await onImage('a5.jpg', 0);
    await page.keyboard.press('d'); // the end of the filter: stays
    await page.waitForTimeout(200);
    await onImage('a5.jpg', 0);
    await page.keyboard.press('a');
    await onImage('a4.jpg', 1);
    await page.keyboard.press('a');
    await onImage('a3.jpg', 1);
    // Shift+D: the next unlabeled image in the filter (a4 is labeled)
    await page.keyboard.press('Shift+D');
    await onImage('a5.jpg', 0);
    await expect.poll(() => page.getByTestId('label-position').textContent()).toBe('3 / 3');
  });

  it('finds everything as it was after a reload, undo history included', async () => {
    await page.reload();
    await page.getByTestId('project-view').waitFor();
    await openFromBrowser('a3.jpg');
    await onImage('a3.jpg', 1);
    expect(await page.getByTestId('label-status').getAttribute('data-status')).toBe('labeled');
    // The history is in the store: Ctrl+Z undoes the paste made before the reload (and its status change).
    expect(await page.getByTestId('undo-button').isEnabled()).toBe(true);
    await page.keyboard.press('Control+z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(0);
    await expect.poll(() => statusOf('a3.jpg')).toBe('unlabeled');
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => boxesOf('a3.jpg').length).toBe(1);
    await onImage('a3.jpg', 1);
    await page.keyboard.press('a');
    await onImage('a2.jpg', 1);
    await page.keyboard.press('a');
    await onImage('a1.jpg', 1);
    expect(boxesOf('a1.jpg')[0]!.class_id).toBe(classId('person'));
    expect(statusOf('a1.jpg')).toBe('reviewed');
  });

  it('shows 2,000 boxes, the hover card, and zooms with the wheel around the cursor', async () => {
    await page.keyboard.press('b');
    await page.getByTestId('browser-view').waitFor();
    await openFromBrowser('many.jpg');
    await onImage('many.jpg', 2000);
    await page.mouse.move(5, 5);
    await page.waitForTimeout(300);
    await page.screenshot({ path: shot('many-boxes') });

    // Wheel up over a box zooms in around it: the image point under the cursor stays put.
    const target = query<BoxRow>('SELECT id, class_id, x, y, w, h FROM boxes WHERE image_id = ? ORDER BY w * h DESC LIMIT 1', id('many.jpg'))[0]!;
    const p = { x: target.x + target.w / 2, y: target.y + target.h / 2 };
    const aim = await at(p);
    // Mouse events carry whole pixels: the point that must stay put is the one under that pixel.
    const mouse = { x: Math.round(aim.x), y: Math.round(aim.y) };
    const origin = await at({ x: 0, y: 0 });
    const s0 = await scale();
    const under = { x: (mouse.x - origin.x) / s0, y: (mouse.y - origin.y) / s0 };
    await page.mouse.move(mouse.x, mouse.y);
    for (let i = 0; i < 6; i++) {
      await page.mouse.wheel(0, -200);
      await page.waitForTimeout(40);
    }
    await page.waitForTimeout(200);
    const after = await at(under);
    // Within half a pixel: the canvas keeps its translation on whole device pixels.
    near(after.x, mouse.x, 0.51);
    near(after.y, mouse.y, 0.51);
    expect(await scale()).toBeGreaterThan(0.5);
    await page.mouse.move(mouse.x + 1, mouse.y + 1);
    await page.getByTestId('box-tip').waitFor();
    expect(await page.getByTestId('box-tip').textContent()).toMatch(/(car|person|bike)\s*imported/);
    await page.screenshot({ path: shot('zoomed') });
    // Ctrl+0 fits again.
    await page.keyboard.press('Control+0');
    await expect.poll(() => scale()).toBeLessThan(0.5);
  });

  it('manages classes: add, rename, merge and delete with a count', async () => {
    await page.getByTestId('manage-classes').click();
    const dialog = page.getByTestId('class-manager');
    await dialog.waitFor();
    await page.getByTestId('cm-add-name').fill('truck');
    await page.getByTestId('cm-add').click();
    await expect.poll(() => query<{ name: string }>('SELECT name FROM classes ORDER BY ord').map((c) => c.name)).toEqual([...CLASSES, 'truck']);
    const truck = dialog.locator(`[data-testid=cm-row][data-class-id="${classId('truck')}"]`);
    await truck.getByTestId('cm-name').fill('lorry');
    await truck.getByTestId('cm-name').press('Enter');
    await expect.poll(() => query<{ name: string }>('SELECT name FROM classes WHERE id = ?', classId('lorry')).length).toBe(1);
    await onImage('many.jpg', 2000);

    // Merge "bike" into "car": its boxes move.
    const bikes = query<{ n: number }>('SELECT COUNT(*) AS n FROM boxes WHERE class_id = ?', classId('bike'))[0]!.n;
    const cars = query<{ n: number }>('SELECT COUNT(*) AS n FROM boxes WHERE class_id = ?', classId('car'))[0]!.n;
    const bike = dialog.locator(`[data-testid=cm-row][data-class-id="${classId('bike')}"]`);
    await bike.getByTestId('cm-merge').click();
    await bike.getByTestId('cm-merge-target').selectOption({ label: 'car' });
    await page.mouse.move(5, 5);
    await page.screenshot({ path: shot('class-manager') });
    await bike.getByTestId('cm-merge-confirm').click();
    await expect.poll(() => query('SELECT 1 FROM classes WHERE name = ?', 'bike').length).toBe(0);
    expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM boxes WHERE class_id = ?', classId('car'))[0]!.n).toBe(cars + bikes);

    // Delete "person": the confirmation says how many boxes on how many images go.
    const persons = query<{ boxes: number; images: number }>(
      'SELECT COUNT(*) AS boxes, COUNT(DISTINCT image_id) AS images FROM boxes WHERE class_id = ?',
      classId('person'),
    )[0]!;
    const person = dialog.locator(`[data-testid=cm-row][data-class-id="${classId('person')}"]`);
    await person.getByTestId('cm-delete').click();
    const text = await person.getByTestId('cm-delete-text').textContent();
    expect(text).toContain(`${persons.boxes.toLocaleString('en-US')} boxes on ${persons.images} images`);
    await person.getByTestId('cm-delete-confirm').click();
    await expect.poll(() => query('SELECT 1 FROM classes WHERE name = ?', 'person').length).toBe(0);
    expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM boxes WHERE image_id = ?', id('a1.jpg'))[0]!.n).toBe(0);
    await page.getByTestId('cm-done').click();
    await dialog.waitFor({ state: 'detached' });
    // The canvas re-read the image: the deleted class's boxes are gone from it too.
    const left = query<{ n: number }>('SELECT COUNT(*) AS n FROM boxes WHERE image_id = ?', id('many.jpg'))[0]!.n;
    await onImage('many.jpg', left);

    // Undo does not reach past the delete: on a3.jpg, whose edits came before it, Ctrl+Z says so and changes nothing.
    await page.keyboard.press('b');
    await page.getByTestId('browser-view').waitFor();
    await openFromBrowser('a3.jpg');
    await onImage('a3.jpg', 0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByTestId('label-notice').textContent()).toBe("Nothing to undo since the class 'person' was deleted");
    expect(boxesOf('a3.jpg')).toHaveLength(0);
    expect(statusOf('a3.jpg')).toBe('labeled');
  });

  it('keeps an edit made while an import holds the project, and saves it once the lock is free', async () => {
    // Another connection holds the write lock, as an import's write phase does.
    const lock = new Database(path.join(root, 'boxtune.db'), { fileMustExist: true });
    lock.exec('BEGIN IMMEDIATE');
    lock.prepare("INSERT INTO meta (key, value) VALUES ('e2e-lock', '1')").run();
    try {
      await onImage('a3.jpg', 0);
      expect(statusOf('a3.jpg')).toBe('labeled');
      await page.keyboard.press('v');
      await expect.poll(() => page.getByTestId('label-notice').textContent()).toContain('busy importing');
      await page.waitForTimeout(600);
      expect(statusOf('a3.jpg')).toBe('labeled'); // not saved yet, and not dropped
    } finally {
      lock.exec('COMMIT');
      lock.close();
    }
    await expect.poll(() => statusOf('a3.jpg'), { timeout: 5000 }).toBe('reviewed');
    await expect.poll(() => page.getByTestId('label-status').getAttribute('data-status')).toBe('reviewed');
  });

  it('lists every shortcut in the ? overlay', async () => {
    await page.keyboard.press('?');
    const help = page.getByTestId('shortcut-help');
    await help.waitFor();
    const text = (await help.textContent()) ?? '';
    for (const key of ['Ctrl+Z', 'Ctrl+Shift+Z', 'Ctrl+Y', 'Ctrl+C', 'Ctrl+V', 'Ctrl+D', 'Ctrl+B', 'Shift+D', 'Delete', 'Tab', 'Ctrl+0', 'Ctrl+1']) {
      expect(text).toContain(key);
    }
    await page.screenshot({ path: shot('shortcuts') });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });
});
