import { describe, expect, it } from 'vitest';
import { toImage } from '../../../../src/renderer/src/canvas/geometry';
import { ViewState } from '../../../../src/renderer/src/canvas/view-state';

const image = { width: 400, height: 300 };

describe('ViewState', () => {
  it('draws the view on whole device pixels and keeps the exact one for the next step', () => {
    const vs = new ViewState({ width: 800, height: 600 }, 2);
    expect(vs.set({ scale: 1.5, x: 10.3, y: -4.76 }, false)).toBe(true);
    expect(vs.view).toEqual({ scale: 1.5, x: 10.5, y: -5 });
    expect(vs.exact).toEqual({ scale: 1.5, x: 10.3, y: -4.76 });
    expect(vs.set({ scale: 1.5, x: 3, y: 3 }, false)).toBe(false); // a pan is no zoom
  });

  it('zooms from the exact view around the pointer, so rounding never accumulates', () => {
    const vs = new ViewState({ width: 800, height: 600 }, 1);
    vs.set(vs.fitting(image), true);
    const at = { x: 333, y: 222 };
    const under = toImage(vs.exact, at);
    for (let i = 0; i < 25; i++) vs.set(vs.zoomedBy(image, 1.07, at), false);
    const now = toImage(vs.exact, at);
    expect(now.x).toBeCloseTo(under.x, 9);
    expect(now.y).toBeCloseTo(under.y, 9);
    expect(vs.fitted).toBe(false);
  });

  it('fits with a margin, shows 100 % around the middle, and reveals a box only when it is near an edge', () => {
    const vs = new ViewState({ width: 848, height: 648 }, 1);
    vs.set(vs.fitting(image), true);
    expect(vs.view).toEqual({ scale: 2, x: 24, y: 24 });
    // A box 16 px from the right edge on screen is centred, at the same zoom; one well inside stays.
    expect(vs.revealing({ x: 150, y: 100, w: 20, h: 20 })).toBeNull();
    expect(vs.revealing({ x: 390, y: 10, w: 10, h: 10 })).toEqual({ scale: 2, x: -366, y: 294 });
    vs.set(vs.at100(), false);
    expect(vs.view).toEqual({ scale: 1, x: 224, y: 174 });
  });

  it('reports a resize only when the size changed', () => {
    const vs = new ViewState({ width: 10, height: 10 }, 1);
    expect(vs.resize({ width: 10, height: 10 })).toBe(false);
    expect(vs.resize({ width: 20, height: 10 })).toBe(true);
    expect(vs.size).toEqual({ width: 20, height: 10 });
  });
});
