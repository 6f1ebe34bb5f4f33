/**
 * @file The canvas's pointer gestures as a pure step function: (gesture, input, context, hits) ->
 * (next gesture, effects). Pan, draw, move, resize and click are told apart here; the effects are
 * plain data that annotation-canvas.ts carries out (select, create, commit, redraw a layer, ...).
 * No DOM, no Konva: unit-tested in Node, like geometry.ts.
 *
 * Points arrive in screen pixels (CSS pixels of the canvas element); the context's view maps
 * them to image pixels. Hit-testing is the caller's (scene.ts): `hits` says what lies under a press.
 */
import {
  clampPoint,
  finishDrawnRect,
  handleCursor,
  handlePoint,
  inImage,
  moveRects,
  rectFromPoints,
  resizeRect,
  roundRect,
  toImage,
  type BoxGeometry,
  type Handle,
  type Point,
  type Rect,
  type Size,
  type View,
} from './geometry';

/** What a left drag does: 'select' picks and moves boxes (and draws on empty image), 'draw' always draws. */
export type CanvasMode = 'select' | 'draw';

/** The Konva layers (layer-stage.ts), each drawn at most once a frame when marked dirty. */
export type LayerName = 'image' | 'boxes' | 'ui';

/** A press that moves less than this (screen pixels) is a click. */
export const CLICK_SLOP = 4;

export type Gesture =
  | { kind: 'pan'; from: Point; view: View }
  | { kind: 'draw'; from: Point; start: Point; end: Point; hit: number | null; shift: boolean }
  | { kind: 'move'; from: Point; start: Point; origin: BoxGeometry[]; live: BoxGeometry[]; moved: boolean; hit: number; shift: boolean; wasSelected: boolean }
  | { kind: 'resize'; id: number; handle: Handle; grab: Point; origin: Rect; live: Rect; moved: boolean }
  | { kind: 'click'; shift: boolean };

export type GestureInput =
  | { kind: 'down'; at: Point; button: number; shift: boolean }
  | { kind: 'move'; at: Point }
  | { kind: 'up'; at: Point }
  /** Esc, or the pointer was taken away (pointercancel). */
  | { kind: 'cancel' }
  | { kind: 'leave' };

/** What the canvas knows when an input arrives. */
export interface GestureContext {
  /** The image's full-resolution size, or null while there is none. */
  image: Size | null;
  mode: CanvasMode;
  /** Space held: a left drag pans. */
  spaceHeld: boolean;
  selection: ReadonlySet<number>;
  /** The view as drawn (screen <-> image), and the exact one a pan starts from (view-state.ts). */
  view: View;
  exactView: View;
  /** A box's geometry as shown (a moved box's, until the store answers). */
  rectOf(id: number): Rect | undefined;
}

/** What lies under a press: the caller's hit test, only needed for 'down'. */
export interface Hits {
  /** A handle of the one selected box (when it can be edited). */
  handle: Handle | null;
  /** The selectable box under the point (the smallest of those there). */
  box: number | null;
}

export type Effect =
  /** The event's default action (the middle button's autoscroll) would fight the gesture. */
  | { kind: 'prevent-default' }
  | { kind: 'focus' }
  /** Keep the pointer's events coming while it is outside the canvas. */
  | { kind: 'capture' }
  | { kind: 'redraw'; layers: LayerName[] }
  /** The cursor may have changed (cursorFor). */
  | { kind: 'cursor' }
  /** Hover ends (highlight and card); 'hover-check' resolves it again at the next frame. */
  | { kind: 'hover-off' }
  | { kind: 'hover-check' }
  | { kind: 'pointer-left' }
  | { kind: 'view'; view: View }
  | { kind: 'select'; ids: number[] }
  /** A drawn box (clipped, rounded, at least MIN_BOX_SIZE). */
  | { kind: 'create'; rect: Rect }
  /** Boxes moved or resized: all of them, held where the gesture left them until the store answers, and those that changed. */
  | { kind: 'commit'; boxes: BoxGeometry[]; changed: BoxGeometry[] }
  /** A drawing, move or resize was abandoned, things put back. */
  | { kind: 'cancelled' };

export interface Step {
  gesture: Gesture | null;
  effects: Effect[];
}

const NO_HITS: Hits = { handle: null, box: null };

export function step(g: Gesture | null, input: GestureInput, ctx: GestureContext, hits: Hits = NO_HITS): Step {
  switch (input.kind) {
    case 'down':
      return press(g, input, ctx, hits);
    case 'move':
      return drag(g, input.at, ctx);
    case 'up':
      return release(g, input.at, ctx);
    case 'cancel':
      if (!g || g.kind === 'click') return { gesture: g, effects: [] };
      return { gesture: null, effects: [redraw('boxes', 'ui'), { kind: 'cursor' }, ...(g.kind === 'pan' ? [] : [{ kind: 'cancelled' } as const])] };
    case 'leave':
      // During a gesture the pointer is captured: it comes back, or the gesture ends with 'up'.
      if (g) return { gesture: g, effects: [] };
      return { gesture: null, effects: [{ kind: 'pointer-left' }, { kind: 'hover-off' }, redraw('ui')] };
  }
}

function press(g: Gesture | null, e: { at: Point; button: number; shift: boolean }, ctx: GestureContext, hits: Hits): Step {
  const s = e.at;
  if (e.button === 1 || (e.button === 0 && ctx.spaceHeld)) {
    return {
      gesture: { kind: 'pan', from: s, view: ctx.exactView },
      effects: [{ kind: 'prevent-default' }, { kind: 'capture' }, { kind: 'hover-off' }, { kind: 'cursor' }],
    };
  }
  const image = ctx.image;
  if (e.button !== 0 || !image) return { gesture: g, effects: [] };
  const effects: Effect[] = [{ kind: 'focus' }, { kind: 'capture' }];
  const p = toImage(ctx.view, s);

  // A handle of the one selected box.
  const handleBox = hits.handle && ctx.selection.size === 1 ? [...ctx.selection][0]! : null;
  const r = handleBox === null ? undefined : ctx.rectOf(handleBox);
  if (hits.handle && handleBox !== null && r) {
    const hp = handlePoint(r, hits.handle);
    const resize: Gesture = { kind: 'resize', id: handleBox, handle: hits.handle, grab: { x: hp.x - p.x, y: hp.y - p.y }, origin: { ...r }, live: { ...r }, moved: false };
    return { gesture: resize, effects: [...effects, { kind: 'cursor' }] };
  }

  const hit = hits.box;
  if (ctx.mode === 'draw' || (hit === null && inImage(p, image))) {
    const start = clampPoint(p, image);
    return { gesture: { kind: 'draw', from: s, start, end: start, hit, shift: e.shift }, effects: [...effects, { kind: 'hover-off' }, redraw('ui')] };
  }
  if (hit === null) return { gesture: { kind: 'click', shift: e.shift }, effects };

  // On a box: select it (Shift toggles it in the selection), then it and the rest of the selection move together.
  const wasSelected = ctx.selection.has(hit);
  let selection: ReadonlySet<number> = ctx.selection;
  if (e.shift) {
    const next = new Set(selection);
    if (wasSelected) next.delete(hit);
    else next.add(hit);
    selection = next;
    effects.push({ kind: 'select', ids: [...next] });
    if (wasSelected) return { gesture: { kind: 'click', shift: true }, effects };
  } else if (!wasSelected) {
    selection = new Set([hit]);
    effects.push({ kind: 'select', ids: [hit] });
  }
  const origin = [...selection].flatMap((id) => {
    const b = ctx.rectOf(id);
    return b ? [{ id, x: b.x, y: b.y, w: b.w, h: b.h }] : [];
  });
  return { gesture: { kind: 'move', from: s, start: p, origin, live: origin, moved: false, hit, shift: e.shift, wasSelected }, effects };
}

function drag(g: Gesture | null, s: Point, ctx: GestureContext): Step {
  if (!g || g.kind === 'click') {
    // Hover is resolved once per frame, not per event.
    return { gesture: g, effects: [{ kind: 'hover-check' }, redraw('ui')] };
  }
  if (g.kind === 'pan') {
    return { gesture: g, effects: [{ kind: 'view', view: { scale: g.view.scale, x: g.view.x + s.x - g.from.x, y: g.view.y + s.y - g.from.y } }] };
  }
  const image = ctx.image;
  if (!image) return { gesture: g, effects: [] };
  const p = toImage(ctx.view, s);
  if (g.kind === 'draw') return { gesture: { ...g, end: clampPoint(p, image) }, effects: [redraw('ui')] };
  const effects: Effect[] = [];
  if (g.kind === 'move') {
    if (!g.moved && Math.hypot(s.x - g.from.x, s.y - g.from.y) < CLICK_SLOP) return { gesture: g, effects };
    // The first real move lifts the boxes off the boxes layer: each frame of the drag redraws the ui layer only.
    if (!g.moved) effects.push(redraw('boxes'), { kind: 'cursor' });
    const live = moveRects(g.origin, p.x - g.start.x, p.y - g.start.y, image);
    return { gesture: { ...g, moved: true, live }, effects: [...effects, redraw('ui')] };
  }
  if (!g.moved) effects.push(redraw('boxes'));
  const live = resizeRect(g.origin, g.handle, { x: p.x + g.grab.x, y: p.y + g.grab.y }, image);
  return { gesture: { ...g, moved: true, live }, effects: [...effects, redraw('ui')] };
}

function release(g: Gesture | null, s: Point, ctx: GestureContext): Step {
  if (!g) return { gesture: null, effects: [] };
  const effects: Effect[] = [];
  if (g.kind === 'click') {
    if (!g.shift) effects.push({ kind: 'select', ids: [] });
  } else if (g.kind === 'draw') {
    if (Math.hypot(s.x - g.from.x, s.y - g.from.y) < CLICK_SLOP) {
      // A click: select what is under it (Shift adds), or clear.
      if (g.hit !== null) {
        const next = g.shift ? new Set(ctx.selection) : new Set<number>();
        if (g.shift && next.has(g.hit)) next.delete(g.hit);
        else next.add(g.hit);
        effects.push({ kind: 'select', ids: [...next] });
      } else if (!g.shift) {
        effects.push({ kind: 'select', ids: [] });
      }
    } else if (ctx.image) {
      const rect = finishDrawnRect(g.start, g.end, ctx.image);
      if (rect) effects.push({ kind: 'create', rect });
    }
  } else if (g.kind === 'move') {
    if (g.moved) {
      const boxes = g.live.map((b) => ({ id: b.id, ...roundRect(b) }));
      effects.push({ kind: 'commit', boxes, changed: boxes.filter((b, i) => b.x !== g.origin[i]?.x || b.y !== g.origin[i]?.y) });
    } else if (!g.shift && g.wasSelected && ctx.selection.size > 1) {
      // A click on one of several selected boxes selects it alone.
      effects.push({ kind: 'select', ids: [g.hit] });
    }
  } else if (g.kind === 'resize') {
    if (g.moved) {
      const r = { id: g.id, ...roundRect(g.live) };
      const same = r.x === g.origin.x && r.y === g.origin.y && r.w === g.origin.w && r.h === g.origin.h;
      effects.push({ kind: 'commit', boxes: [r], changed: same ? [] : [r] });
    }
  }
  effects.push(redraw('boxes', 'ui'), { kind: 'hover-check' }, { kind: 'cursor' });
  return { gesture: null, effects };
}

function redraw(...layers: LayerName[]): Effect {
  return { kind: 'redraw', layers };
}

// ---- what the drawing reads from a gesture -------------------------------------------------------

/** Boxes a gesture is dragging, by id, where they are now (empty before the first real move). */
export function liveRects(g: Gesture | null): Map<number, Rect> {
  const live = new Map<number, Rect>();
  if (g?.kind === 'move' && g.moved) for (const b of g.live) live.set(b.id, b);
  if (g?.kind === 'resize' && g.moved) live.set(g.id, g.live);
  return live;
}

/** The rect being drawn (image pixels, not yet grown or rounded), or null. */
export function drawnRect(g: Gesture | null): Rect | null {
  return g?.kind === 'draw' ? rectFromPoints(g.start, g.end) : null;
}

/** The pointer's surroundings that pick the cursor when no gesture decides it. */
export interface CursorContext {
  spaceHeld: boolean;
  mode: CanvasMode;
  /** A box is hovered. */
  hovering: boolean;
  /** Under the pointer: the selected box's handle, and whether it is on the image; null when no pointer or no image. */
  under: { handle: Handle | null; inImage: boolean } | null;
}

/** The CSS cursor: what a press would do here, or what the gesture is doing. */
export function cursorFor(g: Gesture | null, c: CursorContext): string {
  if (g?.kind === 'pan') return 'grabbing';
  if (c.spaceHeld) return 'grab';
  if (g?.kind === 'resize') return handleCursor(g.handle);
  if (g?.kind === 'move' && g.moved) return 'move';
  if (!c.under) return 'default';
  if (c.under.handle) return handleCursor(c.under.handle);
  if (c.mode === 'draw') return 'crosshair';
  if (c.hovering) return 'move';
  return c.under.inImage ? 'crosshair' : 'default';
}
