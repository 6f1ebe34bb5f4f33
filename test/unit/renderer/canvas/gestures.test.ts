import { describe, expect, it } from 'vitest';
import type { Rect, View } from '../../../../src/renderer/src/canvas/geometry';
import {
  CLICK_SLOP,
  cursorFor,
  drawnRect,
  liveRects,
  step,
  type Effect,
  type Gesture,
  type GestureContext,
  type GestureInput,
  type Hits,
} from '../../../../src/renderer/src/canvas/gestures';

const image = { width: 100, height: 80 };
/** Image (x, y) is at screen (2x + 10, 2y + 20). */
const view: View = { scale: 2, x: 10, y: 20 };
const at = (x: number, y: number): { x: number; y: number } => ({ x: x * 2 + 10, y: y * 2 + 20 });
const NONE: Hits = { handle: null, box: null };

function context(over: Partial<GestureContext> = {}, rects: Record<number, Rect> = {}): GestureContext {
  return { image, mode: 'select', spaceHeld: false, selection: new Set(), view, exactView: view, rectOf: (id) => rects[id], ...over };
}

const down = (x: number, y: number, o: { shift?: boolean; button?: number } = {}): GestureInput => ({ kind: 'down', at: at(x, y), button: o.button ?? 0, shift: o.shift ?? false });
const move = (x: number, y: number): GestureInput => ({ kind: 'move', at: at(x, y) });
const up = (x: number, y: number): GestureInput => ({ kind: 'up', at: at(x, y) });

/** Steps through the inputs (hits go with each 'down'); the gesture left and every effect, in order. */
function play(ctx: GestureContext, inputs: (GestureInput | [GestureInput, Hits])[], from: Gesture | null = null): { gesture: Gesture | null; effects: Effect[]; trail: (Gesture | null)[] } {
  let gesture = from;
  const effects: Effect[] = [];
  const trail: (Gesture | null)[] = [];
  for (const item of inputs) {
    const [input, hits] = Array.isArray(item) ? item : [item, NONE];
    const next = step(gesture, input, ctx, hits);
    gesture = next.gesture;
    effects.push(...next.effects);
    trail.push(gesture);
  }
  return { gesture, effects, trail };
}

const of = <K extends Effect['kind']>(effects: Effect[], kind: K): Extract<Effect, { kind: K }>[] =>
  effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);

describe('drawing a box', () => {
  it('press, drag, release on empty image: one create with the rect, in image pixels', () => {
    const r = play(context(), [down(10, 10), move(20, 15), move(30, 25), up(30, 25)]);
    expect(r.trail[0]?.kind).toBe('draw');
    expect(drawnRect(r.trail[2]!)).toEqual({ x: 10, y: 10, w: 20, h: 15 });
    expect(of(r.effects, 'create')).toEqual([{ kind: 'create', rect: { x: 10, y: 10, w: 20, h: 15 } }]);
    expect(of(r.effects, 'select')).toEqual([]);
    expect(r.gesture).toBeNull();
  });

  it('draws from any corner: dragging up and left gives the same rect', () => {
    const r = play(context(), [down(30, 25), move(10, 10), up(10, 10)]);
    expect(of(r.effects, 'create')).toEqual([{ kind: 'create', rect: { x: 10, y: 10, w: 20, h: 15 } }]);
  });

  it('clips a drag that goes outside the image to the image', () => {
    const r = play(context(), [down(90, 70), move(130, 100), up(130, 100)]);
    expect(drawnRect(r.trail[1]!)).toEqual({ x: 90, y: 70, w: 10, h: 10 });
    expect(of(r.effects, 'create')).toEqual([{ kind: 'create', rect: { x: 90, y: 70, w: 10, h: 10 } }]);
    // In draw mode a press may start off the image: it starts at the nearest edge.
    const d = play(context({ mode: 'draw' }), [down(-20, -10), move(-5, 30), up(-5, 30)]);
    expect(of(d.effects, 'create')).toEqual([{ kind: 'create', rect: { x: 0, y: 0, w: 4, h: 30 } }]);
  });

  it('makes no box from a drag shorter than a click, and clears the selection instead', () => {
    const tiny = (CLICK_SLOP - 1) / 2; // image pixels: just under CLICK_SLOP screen pixels
    const r = play(context({ selection: new Set([7]) }), [down(10, 10), move(10 + tiny, 10), up(10 + tiny, 10)]);
    expect(of(r.effects, 'create')).toEqual([]);
    expect(of(r.effects, 'select')).toEqual([{ kind: 'select', ids: [] }]);
  });

  it('grows a drag past the click but under the minimum size to MIN_BOX_SIZE', () => {
    const r = play(context(), [down(10, 10), move(13, 11), up(13, 11)]);
    expect(of(r.effects, 'create')).toEqual([{ kind: 'create', rect: { x: 10, y: 10, w: 4, h: 4 } }]);
  });

  it('in draw mode, a click on a box selects it; with Shift it toggles in the selection', () => {
    const hit: Hits = { handle: null, box: 3 };
    const r = play(context({ mode: 'draw' }), [[down(15, 15), hit], up(15, 15)]);
    expect(of(r.effects, 'select')).toEqual([{ kind: 'select', ids: [3] }]);
    const s = play(context({ mode: 'draw', selection: new Set([1, 3]) }), [[down(15, 15, { shift: true }), hit], up(15, 15)]);
    expect(of(s.effects, 'select')).toEqual([{ kind: 'select', ids: [1] }]);
  });
});

describe('moving boxes', () => {
  const rects = { 7: { x: 10, y: 10, w: 20, h: 20 }, 8: { x: 50, y: 10, w: 10, h: 10 } };

  it('drags a selected box: lifted off the boxes layer on the first real move, committed on release', () => {
    const ctx = context({ selection: new Set([7]) }, rects);
    const r = play(ctx, [[down(15, 15), { handle: null, box: 7 }], move(15.5, 15), move(25, 20), up(25, 20)]);
    expect(r.trail[0]?.kind).toBe('move');
    // Under the click slop nothing moves.
    expect(liveRects(r.trail[1]!).size).toBe(0);
    expect(liveRects(r.trail[2]!)).toEqual(new Map([[7, { id: 7, x: 20, y: 15, w: 20, h: 20 }]]));
    expect(of(r.effects, 'select')).toEqual([]);
    const box = { id: 7, x: 20, y: 15, w: 20, h: 20 };
    expect(of(r.effects, 'commit')).toEqual([{ kind: 'commit', boxes: [box], changed: [box] }]);
    expect(of(r.effects, 'redraw').map((e) => e.layers.join())).toContain('boxes');
  });

  it('selects an unselected box on press and moves the whole selection, stopped at the image edge', () => {
    const r = play(context({}, rects), [[down(15, 15), { handle: null, box: 7 }], move(200, 15), up(200, 15)]);
    expect(of(r.effects, 'select')).toEqual([{ kind: 'select', ids: [7] }]);
    expect(of(r.effects, 'commit')[0]?.boxes).toEqual([{ id: 7, x: 80, y: 10, w: 20, h: 20 }]);

    const both = play(context({ selection: new Set([7, 8]) }, rects), [[down(15, 15), { handle: null, box: 7 }], move(200, 15), up(200, 15)]);
    // The group stops when its right edge (box 8 at x 50..60) meets the image's: both move by 40.
    expect(of(both.effects, 'commit')[0]?.changed).toEqual([
      { id: 7, x: 50, y: 10, w: 20, h: 20 },
      { id: 8, x: 90, y: 10, w: 10, h: 10 },
    ]);
  });

  it('a click on one of several selected boxes selects it alone; Shift+click takes it out', () => {
    const sel = context({ selection: new Set([7, 8]) }, rects);
    const click = play(sel, [[down(15, 15), { handle: null, box: 7 }], up(15, 15)]);
    expect(of(click.effects, 'select')).toEqual([{ kind: 'select', ids: [7] }]);
    expect(of(click.effects, 'commit')).toEqual([]);
    const shift = play(sel, [[down(15, 15, { shift: true }), { handle: null, box: 7 }], up(15, 15)]);
    expect(of(shift.effects, 'select')).toEqual([{ kind: 'select', ids: [8] }]);
  });
});

describe('resizing by a handle', () => {
  const rects = { 7: { x: 10, y: 10, w: 20, h: 20 } };
  const ctx = context({ selection: new Set([7]) }, rects);

  it('drags the grabbed corner and commits the new geometry', () => {
    // Grabbed 1 px inside the se corner (30, 30): the corner keeps that offset from the pointer.
    const r = play(ctx, [[down(29, 29), { handle: 'se', box: 7 }], move(39, 34), up(39, 34)]);
    expect(r.trail[0]).toMatchObject({ kind: 'resize', id: 7, handle: 'se' });
    expect(liveRects(r.trail[1]!).get(7)).toEqual({ x: 10, y: 10, w: 30, h: 25 });
    const box = { id: 7, x: 10, y: 10, w: 30, h: 25 };
    expect(of(r.effects, 'commit')).toEqual([{ kind: 'commit', boxes: [box], changed: [box] }]);
  });

  it('stops at the minimum size and at the image edge', () => {
    const small = play(ctx, [[down(10, 10), { handle: 'nw', box: 7 }], move(60, 60), up(60, 60)]);
    expect(of(small.effects, 'commit')[0]?.boxes).toEqual([{ id: 7, x: 26, y: 26, w: 4, h: 4 }]);
    const out = play(ctx, [[down(30, 20), { handle: 'e', box: 7 }], move(500, 20), up(500, 20)]);
    expect(of(out.effects, 'commit')[0]?.boxes).toEqual([{ id: 7, x: 10, y: 10, w: 90, h: 20 }]);
  });

  it('a press on a handle that does not move changes nothing', () => {
    const r = play(ctx, [[down(30, 30), { handle: 'se', box: 7 }], up(30, 30)]);
    expect(of(r.effects, 'commit')).toEqual([]);
    expect(of(r.effects, 'select')).toEqual([]);
  });
});

describe('clicks, pans and cancels', () => {
  it('a click on empty space (off the image) deselects; with Shift it keeps the selection', () => {
    const ctx = context({ selection: new Set([7]) });
    const r = play(ctx, [down(-20, -20), up(-20, -20)]);
    expect(r.trail[0]).toEqual({ kind: 'click', shift: false });
    expect(of(r.effects, 'select')).toEqual([{ kind: 'select', ids: [] }]);
    expect(of(play(ctx, [down(-20, -20, { shift: true }), up(-20, -20)]).effects, 'select')).toEqual([]);
  });

  it('Escape cancels a drag: the boxes go back, and the release commits nothing', () => {
    const rects = { 7: { x: 10, y: 10, w: 20, h: 20 } };
    const ctx = context({ selection: new Set([7]) }, rects);
    const r = play(ctx, [[down(15, 15), { handle: null, box: 7 }], move(40, 40), { kind: 'cancel' }, up(40, 40)]);
    expect(r.trail[2]).toBeNull();
    expect(liveRects(r.trail[2]!).size).toBe(0);
    expect(of(r.effects, 'cancelled')).toHaveLength(1);
    expect(of(r.effects, 'commit')).toEqual([]);
    // A drawing too.
    const d = play(context(), [down(10, 10), move(30, 30), { kind: 'cancel' }, up(30, 30)]);
    expect(of(d.effects, 'cancelled')).toHaveLength(1);
    expect(of(d.effects, 'create')).toEqual([]);
    // With nothing in progress there is nothing to cancel (Escape then clears the selection instead).
    expect(step(null, { kind: 'cancel' }, ctx).effects).toEqual([]);
  });

  it('pans with the middle button or Space: the view follows the pointer; a cancelled pan is not an undo', () => {
    const r = play(context(), [down(10, 10, { button: 1 }), move(20, 15)]);
    expect(r.effects[0]).toEqual({ kind: 'prevent-default' });
    expect(of(r.effects, 'view')).toEqual([{ kind: 'view', view: { scale: 2, x: 30, y: 30 } }]);
    const space = play(context({ spaceHeld: true }), [down(10, 10), { kind: 'cancel' }]);
    expect(space.trail[0]?.kind).toBe('pan');
    expect(space.gesture).toBeNull();
    expect(of(space.effects, 'cancelled')).toEqual([]);
  });

  it('ignores presses without an image, and other buttons', () => {
    expect(step(null, down(10, 10), context({ image: null }))).toEqual({ gesture: null, effects: [] });
    expect(step(null, down(10, 10, { button: 2 }), context())).toEqual({ gesture: null, effects: [] });
  });

  it('moves without a gesture ask for a hover check; leaving ends hover unless a gesture holds the pointer', () => {
    expect(of(step(null, move(5, 5), context()).effects, 'hover-check')).toHaveLength(1);
    expect(step(null, { kind: 'leave' }, context()).effects.map((e) => e.kind)).toEqual(['pointer-left', 'hover-off', 'redraw']);
    const drawing = step(null, down(10, 10), context()).gesture;
    expect(step(drawing, { kind: 'leave' }, context()).effects).toEqual([]);
  });
});

describe('cursor', () => {
  const base = { spaceHeld: false, mode: 'select' as const, hovering: false, under: { handle: null, inImage: true } };

  it('says what a press would do, or what the gesture is doing', () => {
    expect(cursorFor(null, base)).toBe('crosshair');
    expect(cursorFor(null, { ...base, under: { handle: null, inImage: false } })).toBe('default');
    expect(cursorFor(null, { ...base, under: null })).toBe('default');
    expect(cursorFor(null, { ...base, hovering: true })).toBe('move');
    expect(cursorFor(null, { ...base, hovering: true, under: { handle: 'ne', inImage: true } })).toBe('nesw-resize');
    expect(cursorFor(null, { ...base, spaceHeld: true })).toBe('grab');
    expect(cursorFor({ kind: 'pan', from: { x: 0, y: 0 }, view }, { ...base, spaceHeld: true })).toBe('grabbing');
    const resize: Gesture = { kind: 'resize', id: 1, handle: 'n', grab: { x: 0, y: 0 }, origin: { x: 0, y: 0, w: 9, h: 9 }, live: { x: 0, y: 0, w: 9, h: 9 }, moved: false };
    expect(cursorFor(resize, base)).toBe('ns-resize');
  });
});
