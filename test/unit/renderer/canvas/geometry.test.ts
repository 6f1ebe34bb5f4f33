import { describe, expect, it } from 'vitest';
import {
  clampDelta,
  clipRect,
  finishDrawnRect,
  fitView,
  handlePoint,
  HANDLES,
  MIN_BOX_SIZE,
  moveRects,
  nudgeDelta,
  pickBox,
  pickHandle,
  resizeRect,
  toImage,
  toScreen,
  visibleImageRect,
  wheelZoomFactor,
  zoomAt,
  zoomLimits,
  type View,
} from '../../../../src/renderer/src/canvas/geometry';

const image = { width: 100, height: 80 };

describe('view transform', () => {
  it('maps screen to image and back', () => {
    const view: View = { scale: 2.5, x: 30, y: -12 };
    const p = { x: 17.25, y: 41 };
    const back = toImage(view, toScreen(view, p));
    expect(back.x).toBeCloseTo(p.x, 10);
    expect(back.y).toBeCloseTo(p.y, 10);
  });

  it('zooms around the cursor: the image point under it stays under it', () => {
    let view: View = { scale: 0.7, x: 13, y: 29 };
    const cursor = { x: 412, y: 233 };
    const under = toImage(view, cursor);
    for (const factor of [1.16, 1.16, 3, 0.2, 0.9]) {
      view = zoomAt(view, cursor, factor);
      const now = toImage(view, cursor);
      expect(now.x).toBeCloseTo(under.x, 9);
      expect(now.y).toBeCloseTo(under.y, 9);
    }
    expect(view.scale).toBeCloseTo(0.7 * 1.16 * 1.16 * 3 * 0.2 * 0.9, 9);
  });

  it('clamps the zoom to its limits and still keeps the cursor point fixed', () => {
    const view = zoomAt({ scale: 1, x: 0, y: 0 }, { x: 50, y: 50 }, 1000, { min: 0.5, max: 8 });
    expect(view.scale).toBe(8);
    const p = toImage(view, { x: 50, y: 50 });
    expect(p).toEqual({ x: 50, y: 50 });
    expect(zoomAt(view, { x: 0, y: 0 }, 1e-6, { min: 0.5, max: 8 }).scale).toBe(0.5);
  });

  it('fits the image centred with a margin, limited by the tighter side', () => {
    expect(fitView({ width: 200, height: 100 }, { width: 420, height: 420 }, 10)).toEqual({ scale: 2, x: 10, y: 110 });
    const tall = fitView({ width: 100, height: 400 }, { width: 1000, height: 500 }, 50);
    expect(tall.scale).toBe(1);
    expect(tall.x).toBe(450);
    expect(tall.y).toBe(50);
    // maxScale keeps a thumbnail-sized image from being blown up
    expect(fitView({ width: 10, height: 10 }, { width: 1000, height: 1000 }, 0, 1).scale).toBe(1);
  });

  it('knows which part of the image is visible', () => {
    expect(visibleImageRect({ scale: 2, x: -100, y: 20 }, { width: 400, height: 300 })).toEqual({ x: 50, y: -10, w: 200, h: 150 });
  });

  it('derives zoom limits from the fit scale', () => {
    const l = zoomLimits({ width: 8000, height: 8000 }, { width: 800, height: 800 });
    expect(l.min).toBeCloseTo(0.025);
    expect(l.max).toBe(32);
  });

  it('turns wheel deltas into a zoom factor: down zooms out, up zooms in, lines count more than pixels', () => {
    expect(wheelZoomFactor(100)).toBeLessThan(1);
    expect(wheelZoomFactor(-100)).toBeGreaterThan(1);
    expect(wheelZoomFactor(-100) * wheelZoomFactor(100)).toBeCloseTo(1, 12);
    expect(wheelZoomFactor(-3, 1)).toBeCloseTo(wheelZoomFactor(-48, 0), 12);
    expect(wheelZoomFactor(-1e6)).toBeLessThan(2); // a fling is capped
  });
});

describe('clipping and drawing', () => {
  it('clips a box to the image and drops slivers (the store rule)', () => {
    expect(clipRect({ x: -10, y: 5, w: 30, h: 100 }, image)).toEqual({ x: 0, y: 5, w: 20, h: 75 });
    expect(clipRect({ x: 50, y: 50, w: -20, h: -10 }, image)).toEqual({ x: 30, y: 40, w: 20, h: 10 });
    expect(clipRect({ x: 99.5, y: 0, w: 10, h: 10 }, image)).toBeNull();
    expect(clipRect({ x: 200, y: 0, w: 10, h: 10 }, image)).toBeNull();
  });

  it('finishes a drawn box from two corners in any order, clipped to the image', () => {
    expect(finishDrawnRect({ x: 60, y: 70 }, { x: 20, y: 10 }, image)).toEqual({ x: 20, y: 10, w: 40, h: 60 });
    expect(finishDrawnRect({ x: -20, y: 10 }, { x: 30, y: 200 }, image)).toEqual({ x: 0, y: 10, w: 30, h: 70 });
  });

  it('grows a tiny drawn box to the minimum size, inside the image', () => {
    expect(finishDrawnRect({ x: 10, y: 10 }, { x: 11, y: 30 }, image)).toEqual({ x: 10, y: 10, w: MIN_BOX_SIZE, h: 20 });
    // dragged leftwards: grows leftwards from the anchor
    expect(finishDrawnRect({ x: 10, y: 10 }, { x: 9, y: 30 }, image)).toEqual({ x: 6, y: 10, w: MIN_BOX_SIZE, h: 20 });
    // at the right edge: pushed back inside
    expect(finishDrawnRect({ x: 99, y: 79 }, { x: 100, y: 80 }, image)).toEqual({ x: 96, y: 76, w: 4, h: 4 });
  });

  it('rounds drawn coordinates to 1/100 px', () => {
    expect(finishDrawnRect({ x: 1.23456, y: 2 }, { x: 20.98765, y: 30.00001 }, image)).toEqual({ x: 1.23, y: 2, w: 19.75, h: 28 });
  });
});

describe('moving and nudging', () => {
  it('moves a group together and stops it at the image edge without squashing', () => {
    const rects = [
      { id: 1, x: 10, y: 10, w: 20, h: 20 },
      { id: 2, x: 70, y: 40, w: 20, h: 20 },
    ];
    expect(moveRects(rects, 50, -50, image)).toEqual([
      { id: 1, x: 20, y: 0, w: 20, h: 20 },
      { id: 2, x: 80, y: 30, w: 20, h: 20 },
    ]);
    expect(clampDelta({ x: 90, y: 0, w: 10, h: 10 }, 20, 5, { width: 100, height: 100 })).toEqual({ dx: 0, dy: 5 });
  });

  it('nudges 1 px, or 10 with Shift', () => {
    expect(nudgeDelta('ArrowLeft', false)).toEqual({ dx: -1, dy: 0 });
    expect(nudgeDelta('ArrowDown', true)).toEqual({ dx: 0, dy: 10 });
    expect(moveRects([{ x: 0.5, y: 5, w: 10, h: 10 }], -1, 0, image)).toEqual([{ x: 0, y: 5, w: 10, h: 10 }]);
  });
});

describe('resizing by a handle', () => {
  const r = { x: 10, y: 10, w: 20, h: 20 };

  it('moves only the edges the handle holds', () => {
    expect(resizeRect(r, 'se', { x: 50, y: 45 }, { width: 100, height: 100 })).toEqual({ x: 10, y: 10, w: 40, h: 35 });
    expect(resizeRect(r, 'n', { x: 999, y: 4 }, image)).toEqual({ x: 10, y: 4, w: 20, h: 26 });
    expect(resizeRect(r, 'w', { x: 0, y: 999 }, image)).toEqual({ x: 0, y: 10, w: 30, h: 20 });
    expect(resizeRect(r, 'nw', { x: 5, y: 6 }, image)).toEqual({ x: 5, y: 6, w: 25, h: 24 });
  });

  it('clamps to the image', () => {
    expect(resizeRect(r, 'se', { x: 500, y: -500 }, image)).toEqual({ x: 10, y: 10, w: 90, h: MIN_BOX_SIZE });
    expect(resizeRect(r, 'nw', { x: -50, y: -50 }, image)).toEqual({ x: 0, y: 0, w: 30, h: 30 });
  });

  it('stops at the minimum size instead of flipping the box', () => {
    expect(resizeRect(r, 'e', { x: 0, y: 0 }, image)).toEqual({ x: 10, y: 10, w: MIN_BOX_SIZE, h: 20 });
    expect(resizeRect(r, 'n', { x: 0, y: 80 }, image)).toEqual({ x: 10, y: 30 - MIN_BOX_SIZE, w: 20, h: MIN_BOX_SIZE });
    expect(resizeRect(r, 'sw', { x: 99, y: 0 }, image, 8)).toEqual({ x: 22, y: 10, w: 8, h: 8 });
  });

  it('puts the handles at the corners and edge midpoints', () => {
    expect(HANDLES.map((h) => handlePoint(r, h))).toEqual([
      { x: 10, y: 10 },
      { x: 20, y: 10 },
      { x: 30, y: 10 },
      { x: 30, y: 20 },
      { x: 30, y: 30 },
      { x: 20, y: 30 },
      { x: 10, y: 30 },
      { x: 10, y: 20 },
    ]);
  });

  it('picks the nearest handle within the radius, corners over edges on small boxes', () => {
    const s = { x: 100, y: 100, w: 200, h: 100 };
    expect(pickHandle(s, { x: 302, y: 203 }, 6)).toBe('se');
    expect(pickHandle(s, { x: 200, y: 97 }, 6)).toBe('n');
    expect(pickHandle(s, { x: 200, y: 150 }, 6)).toBeNull();
    expect(pickHandle({ x: 0, y: 0, w: 10, h: 10 }, { x: 4, y: 1 }, 6)).toBe('nw');
    expect(pickHandle({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0 }, 6)).toBe('nw'); // a tie: the first corner
  });
});

describe('hit-testing', () => {
  const boxes = [
    { id: 1, x: 0, y: 0, w: 100, h: 80 },
    { id: 2, x: 20, y: 20, w: 10, h: 10 },
    { id: 3, x: 50, y: 50, w: 30, h: 20 },
  ];

  it('picks the smallest box under the point, so nested boxes stay reachable', () => {
    expect(pickBox(boxes, { x: 25, y: 25 })?.id).toBe(2);
    expect(pickBox(boxes, { x: 60, y: 60 })?.id).toBe(3);
    expect(pickBox(boxes, { x: 5, y: 5 })?.id).toBe(1);
    expect(pickBox(boxes, { x: 500, y: 5 })).toBeNull();
  });

  it('honours a tolerance and a filter (hidden or locked classes)', () => {
    expect(pickBox(boxes, { x: 32, y: 25 }, 0, (b) => b.id !== 1)).toBeNull();
    expect(pickBox(boxes, { x: 32, y: 25 }, 3, (b) => b.id !== 1)?.id).toBe(2);
    expect(pickBox(boxes, { x: 25, y: 25 }, 0, (b) => b.id !== 2)?.id).toBe(1);
  });
});
