/**
 * @file What the canvas shows, as one plain record (the image, its boxes, the selection, hover,
 * the gesture in progress, the view), and the questions the pointer code and the drawing ask of it:
 * where a box is now, whether it can be picked, what is under a point. annotation-canvas.ts owns
 * the record and changes it; drawing.ts reads it.
 *
 * Boxes are reconciled by id: records that did not change keep their identity, and the optimistic
 * geometry of a move (`overrides`) is keyed by id until the store's answer replaces the record.
 */
import type { BoxRecord, PredictionRecord } from '../../../shared/types';
import { inImage, pickBox, pickHandle, rectToScreen, toImage, type BoxGeometry, type Handle, type Point, type Rect } from './geometry';
import { cursorFor, type CanvasMode, type Gesture, type GestureContext, type Hits } from './gestures';
import type { CanvasImage, ClassStyle } from './types';
import type { ViewState } from './view-state';

/** Screen pixels within which a handle or a box edge can be grabbed. */
const HANDLE_RADIUS = 7;
const EDGE_TOLERANCE = 3;

export interface Scene {
  image: CanvasImage | null;
  boxes: readonly BoxRecord[];
  byId: Map<number, BoxRecord>;
  /** Geometry of moved/resized boxes until the store's answer replaces their records. */
  overrides: Map<number, { rect: Rect; record: BoxRecord }>;
  /** Drawn boxes waiting for the store to give them an id (until: performance.now() they fade at). */
  ghosts: { rect: Rect; until: number }[];
  styles: Map<number, ClassStyle>;
  /** The colour of a box being drawn. */
  nextColor: string;
  selection: Set<number>;
  hoverId: number | null;
  mode: CanvasMode;
  showBoxes: boolean;
  predictions: readonly PredictionRecord[];
  showPredictions: boolean;
  spaceHeld: boolean;
  /** The pointer over the container (screen pixels), or null when it is elsewhere. */
  pointer: Point | null;
  gesture: Gesture | null;
  viewState: ViewState;
}

/** An empty scene: no image, nothing selected, select mode. */
export function emptyScene(viewState: ViewState): Scene {
  return {
    image: null,
    boxes: [],
    byId: new Map(),
    overrides: new Map(),
    ghosts: [],
    styles: new Map(),
    nextColor: '#5b9cf5',
    selection: new Set(),
    hoverId: null,
    mode: 'select',
    showBoxes: true,
    predictions: [],
    showPredictions: true,
    spaceHeld: false,
    pointer: null,
    gesture: null,
    viewState,
  };
}

/** A box's geometry as shown: where a gesture left it until the store answers, else its record. */
export function rectOf(scene: Scene, id: number): Rect | undefined {
  return scene.overrides.get(id)?.rect ?? scene.byId.get(id);
}

/** Boxes can be picked while shown, and their class is neither hidden nor locked. */
export function selectable(scene: Scene, b: BoxRecord): boolean {
  const st = scene.styles.get(b.classId);
  return scene.showBoxes && !st?.hidden && !st?.locked;
}

/** The box under the image point `p` (smallest first; hidden and locked classes pass through). */
export function pickAt(scene: Scene, p: Point): BoxRecord | null {
  const hit = pickBox(hitList(scene), p, EDGE_TOLERANCE / scene.viewState.view.scale, (b) => selectable(scene, scene.byId.get(b.id)!));
  return hit ? (scene.byId.get(hit.id) ?? null) : null;
}

/** The handle of the one selected box under the screen point `s`, when that box can be edited. */
export function handleAt(scene: Scene, s: Point): Handle | null {
  if (scene.selection.size !== 1) return null;
  const [id] = scene.selection as Set<number>;
  const rec = id === undefined ? undefined : scene.byId.get(id);
  const r = id === undefined ? undefined : rectOf(scene, id);
  if (!rec || !r || !selectable(scene, rec)) return null;
  return pickHandle(rectToScreen(scene.viewState.view, r), s, HANDLE_RADIUS);
}

/** The CSS cursor for where the pointer is and what the gesture does (gestures.ts's cursorFor). */
export function cursorOf(scene: Scene): string {
  const p = scene.pointer;
  const under = scene.image && p ? { handle: handleAt(scene, p), inImage: inImage(toImage(scene.viewState.view, p), scene.image) } : null;
  return cursorFor(scene.gesture, { spaceHeld: scene.spaceHeld, mode: scene.mode, hovering: scene.hoverId !== null, under });
}

/** What lies under the screen point `s` for a press (gestures.ts). */
export function hitsAt(scene: Scene, s: Point): Hits {
  return { handle: handleAt(scene, s), box: pickAt(scene, toImage(scene.viewState.view, s))?.id ?? null };
}

/** What the gesture step needs to know of the scene. */
export function gestureContext(scene: Scene): GestureContext {
  const { view, exact } = scene.viewState;
  return { image: scene.image, mode: scene.mode, spaceHeld: scene.spaceHeld, selection: scene.selection, view, exactView: exact, rectOf: (id) => rectOf(scene, id) };
}

/** Takes the store's boxes for the image: overrides, ghosts, selection and hover that no longer apply end. */
export function assignBoxes(scene: Scene, boxes: readonly BoxRecord[]): void {
  const known = scene.byId;
  scene.boxes = boxes;
  scene.byId = new Map(boxes.map((b) => [b.id, b]));
  // An override ends when the store's record for the box is a new one (the edit's answer, or a reload).
  for (const [id, o] of scene.overrides) if (scene.byId.get(id) !== o.record) scene.overrides.delete(id);
  if (boxes.some((b) => !known.has(b.id))) scene.ghosts = [];
  for (const id of scene.selection) if (!scene.byId.has(id)) scene.selection.delete(id);
}

/** Keeps the boxes where a gesture left them until the store answers. */
export function hold(scene: Scene, boxes: readonly BoxGeometry[]): void {
  for (const b of boxes) {
    const record = scene.byId.get(b.id);
    if (record) scene.overrides.set(b.id, { rect: { x: b.x, y: b.y, w: b.w, h: b.h }, record });
  }
}

export function sameIds(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  return a.size === b.size && [...a].every((id) => b.has(id));
}

function hitList(scene: Scene): BoxGeometry[] {
  if (scene.overrides.size === 0) return scene.boxes as BoxRecord[];
  return scene.boxes.map((b) => {
    const o = scene.overrides.get(b.id);
    return o ? { ...b, ...o.rect } : b;
  });
}
