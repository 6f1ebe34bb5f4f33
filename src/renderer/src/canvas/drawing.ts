/**
 * @file What each layer of the canvas draws, from the scene (scene.ts), in CSS pixels on a Konva
 * layer's context (the pixel ratio is in its transform):
 *   - image layer, over the picture (image-painter.ts): the model's predictions, dashed and
 *     read-only, one path per class;
 *   - boxes layer: every box's outline rasterized into a pixel buffer (box-raster.ts) and put in one
 *     call, class tags only when few boxes are on screen;
 *   - ui layer: hover, selection and handles, the boxes a gesture drags, ghosts, the box being
 *     drawn, crosshair guides.
 * Why pixels rather than a Konva.Rect per box: with 2,000 boxes, drawing 2,000 Rect nodes costs a
 * frame's budget or more in software Chromium (bench/canvas.ts measures them side by side).
 */
import type { BoxRecord, PredictionRecord } from '../../../shared/types';
import { groupByClass, predictionLabel, predictionsInView } from '../lib/predictions';
import { BoxRaster, pixelColor } from './box-raster';
import { HANDLES, handlePoint, rectToScreen, visibleImageRect, type Rect } from './geometry';
import { drawnRect, liveRects } from './gestures';
import { rectOf, selectable, type Scene } from './scene';
import type { ClassStyle } from './types';

/** Class tags are drawn when at most this many boxes are on screen. */
const LABEL_LIMIT = 150;
/** Dark halos around the outlines (legibility on bright images) up to this many boxes on screen. */
const HALO_LIMIT = 800;
/** Two-pixel outlines up to this many boxes on screen, one pixel above. */
const THICK_LIMIT = 400;
const HALO_COLOR = pixelColor('#000000', 0.45);
const DEFAULT_PIXEL = pixelColor('#d9dce0');
const DEFAULT_COLOR = '#d9dce0';
/** Predictions: dashed so they never pass for boxes, thinner than boxes, with a dashed halo. */
const PREDICTION_DASH = [6, 4];
const PREDICTION_WIDTH = 1.5;
const PREDICTION_HALO_WIDTH = 3.5;
const PREDICTION_LABEL_BG = 'rgba(20, 22, 25, 0.78)';

/** The boxes layer: keeps the pixel buffer and the class colours as pixel words between frames. */
export class BoxPainter {
  readonly #raster = new BoxRaster();
  #imageData: ImageData | null = null;
  #pixelColors = new Map<number, number>();

  setStyles(styles: ReadonlyMap<number, ClassStyle>): void {
    this.#pixelColors = new Map([...styles].map(([id, st]) => [id, pixelColor(st.color)]));
  }

  /** Draws the boxes not being dragged; returns how many were on screen. */
  draw(ctx: CanvasRenderingContext2D, scene: Scene, pr: number): number {
    if (!scene.image || !scene.showBoxes) return 0;
    const { view, size } = scene.viewState;
    const raster = this.#raster;
    if (raster.resize(size.width * pr, size.height * pr) || !this.#imageData) {
      this.#imageData = new ImageData(new Uint8ClampedArray(raster.pixels.buffer), raster.width, raster.height);
    }
    raster.clear();
    const k = view.scale * pr;
    const ox = view.x * pr;
    const oy = view.y * pr;
    const vis = visibleImageRect(view, size);
    const vx2 = vis.x + vis.w;
    const vy2 = vis.y + vis.h;
    // Boxes a gesture drags are on the ui layer, so each frame of the drag redraws that one only.
    const dragged = liveRects(scene.gesture);
    const shown: BoxRecord[] = [];
    for (const b of scene.boxes) {
      if (dragged.has(b.id)) continue;
      const r = scene.overrides.get(b.id)?.rect ?? b;
      if (r.x > vx2 || r.y > vy2 || r.x + r.w < vis.x || r.y + r.h < vis.y) continue;
      if (scene.styles.get(b.classId)?.hidden) continue;
      shown.push(b);
    }
    // Thin lines when the image is crowded, thicker when there are few boxes to see.
    const thickness = Math.max(1, Math.round((shown.length <= THICK_LIMIT ? 2 : 1) * pr));
    const halo = shown.length <= HALO_LIMIT;
    for (let pass = halo ? 0 : 1; pass < 2; pass++) {
      for (const b of shown) {
        const r = scene.overrides.get(b.id)?.rect ?? b;
        const x0 = Math.round(r.x * k + ox);
        const y0 = Math.round(r.y * k + oy);
        const x1 = Math.max(x0 + 1, Math.round((r.x + r.w) * k + ox));
        const y1 = Math.max(y0 + 1, Math.round((r.y + r.h) * k + oy));
        if (pass === 0) {
          raster.outline(x0 - 1, y0 - 1, x1 + 1, y1 + 1, HALO_COLOR, 1);
        } else {
          const locked = scene.styles.get(b.classId)?.locked ?? false;
          raster.outline(x0, y0, x1, y1, this.#pixelColors.get(b.classId) ?? DEFAULT_PIXEL, thickness, locked ? Math.round(5 * pr) : 0);
        }
      }
    }
    const d = raster.dirty;
    if (d.x1 > d.x0 && d.y1 > d.y0) ctx.putImageData(this.#imageData!, 0, 0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    if (shown.length <= LABEL_LIMIT) {
      for (const b of shown) drawTag(ctx, scene, scene.overrides.get(b.id)?.rect ?? b, b.classId);
    }
    return shown.length;
  }
}

/** The class name on a small tab above the box's top-left corner (inside it at the image top). */
function drawTag(ctx: CanvasRenderingContext2D, scene: Scene, r: Rect, classId: number): void {
  const st = scene.styles.get(classId);
  if (!st) return;
  const s = rectToScreen(scene.viewState.view, r);
  if (s.w < 24) return;
  ctx.font = '11px system-ui, sans-serif';
  const text = st.name.length > 24 ? `${st.name.slice(0, 23)}…` : st.name;
  const w = Math.min(ctx.measureText(text).width + 8, Math.max(s.w, 24));
  const h = 15;
  const y = s.y - h >= 0 ? s.y - h : s.y;
  ctx.fillStyle = st.color;
  ctx.fillRect(s.x - 0.75, y, w, h);
  ctx.fillStyle = textColorOn(st.color);
  ctx.save();
  ctx.beginPath();
  ctx.rect(s.x, y, w - 2, h);
  ctx.clip();
  ctx.fillText(text, s.x + 3.5, y + 11);
  ctx.restore();
}

/**
 * The predictions on screen, over the picture on the image layer: dashed outlines stroked one path
 * per class (hundreds stay cheap), in screen pixels so the line keeps its width at any zoom, as the
 * boxes' outlines do. Returns how many were drawn.
 */
export function drawPredictions(ctx: CanvasRenderingContext2D, scene: Scene): number {
  const img = scene.image;
  if (!img || !scene.showPredictions) return 0;
  const { view, size } = scene.viewState;
  const shown = predictionsInView(scene.predictions, img.imageId, visibleImageRect(view, size), (id) => scene.styles.get(id)?.hidden ?? false);
  if (shown.length === 0) return 0;
  ctx.setLineDash(PREDICTION_DASH);
  if (shown.length <= HALO_LIMIT) {
    ctx.lineWidth = PREDICTION_HALO_WIDTH;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.45)';
    strokeRects(ctx, scene, shown);
  }
  ctx.lineWidth = PREDICTION_WIDTH;
  for (const [classId, list] of groupByClass(shown)) {
    ctx.strokeStyle = scene.styles.get(classId)?.color ?? DEFAULT_COLOR;
    strokeRects(ctx, scene, list);
  }
  ctx.setLineDash([]);
  if (shown.length <= LABEL_LIMIT) {
    ctx.font = '10px system-ui, sans-serif';
    for (const p of shown) drawPredictionLabel(ctx, scene, p);
  }
  return shown.length;
}

function strokeRects(ctx: CanvasRenderingContext2D, scene: Scene, rects: readonly Rect[]): void {
  ctx.beginPath();
  for (const r of rects) {
    const s = rectToScreen(scene.viewState.view, r);
    ctx.rect(Math.round(s.x), Math.round(s.y), Math.max(1, Math.round(s.w)), Math.max(1, Math.round(s.h)));
  }
  ctx.stroke();
}

/** "name 0.87" inside the top-left corner (a box's own tag sits above its corner: no overlap). */
function drawPredictionLabel(ctx: CanvasRenderingContext2D, scene: Scene, p: PredictionRecord): void {
  const s = rectToScreen(scene.viewState.view, p);
  if (s.w < 24 || s.h < 13) return;
  const st = scene.styles.get(p.classId);
  const text = predictionLabel(st?.name ?? `class ${p.classId}`, p.score);
  const x = Math.round(s.x) + 1;
  const y = Math.round(s.y) + 1;
  ctx.fillStyle = PREDICTION_LABEL_BG;
  ctx.fillRect(x, y, ctx.measureText(text).width + 6, 13);
  ctx.fillStyle = st?.color ?? DEFAULT_COLOR;
  ctx.fillText(text, x + 3, y + 10);
}

/** Nothing for the ui layer to show: no selection, hover, gesture, ghost or crosshair. */
export function uiIsEmpty(scene: Scene): boolean {
  const g = scene.gesture;
  return (
    !scene.image ||
    (scene.selection.size === 0 &&
      scene.hoverId === null &&
      scene.ghosts.length === 0 &&
      (!g || g.kind === 'pan' || g.kind === 'click') &&
      !(scene.mode === 'draw' && scene.pointer))
  );
}

export function drawUi(ctx: CanvasRenderingContext2D, scene: Scene): void {
  if (!scene.image) return;
  const { view, size } = scene.viewState;
  const g = scene.gesture;
  const live = liveRects(g);

  // Hover: a light fill so the user sees what a click would pick.
  if (scene.hoverId !== null && !scene.selection.has(scene.hoverId) && !g) {
    const b = scene.byId.get(scene.hoverId);
    const r = rectOf(scene, scene.hoverId);
    if (b && r) {
      const s = rectToScreen(view, r);
      const color = scene.styles.get(b.classId)?.color ?? DEFAULT_COLOR;
      ctx.fillStyle = withAlpha(color, 0.14);
      ctx.fillRect(s.x, s.y, s.w, s.h);
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.strokeRect(s.x, s.y, s.w, s.h);
    }
  }

  // Selected (and dragged) boxes: fill, a thicker stroke, and handles when exactly one.
  for (const id of scene.selection) {
    const b = scene.byId.get(id);
    const r = live.get(id) ?? rectOf(scene, id);
    if (!b || !r || (!scene.showBoxes && !live.has(id))) continue;
    const s = rectToScreen(view, r);
    const color = scene.styles.get(b.classId)?.color ?? DEFAULT_COLOR;
    ctx.fillStyle = withAlpha(color, 0.2);
    ctx.fillRect(s.x, s.y, s.w, s.h);
    ctx.lineWidth = 4;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.5)';
    ctx.strokeRect(s.x, s.y, s.w, s.h);
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.strokeRect(s.x, s.y, s.w, s.h);
    if (scene.selection.size === 1 && selectable(scene, b)) {
      for (const h of HANDLES) {
        const p = handlePoint(s, h);
        ctx.fillStyle = '#ffffff';
        ctx.fillRect(p.x - 3.5, p.y - 3.5, 7, 7);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = color;
        ctx.strokeRect(p.x - 3.5, p.y - 3.5, 7, 7);
      }
    }
    if (live.has(id)) drawSize(ctx, scene, s, r);
  }

  // Boxes waiting for their id, and the one being drawn.
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = scene.nextColor;
  for (const ghost of scene.ghosts) {
    const s = rectToScreen(view, ghost.rect);
    ctx.strokeRect(s.x, s.y, s.w, s.h);
  }
  const drawn = drawnRect(g);
  if (drawn) {
    const s = rectToScreen(view, drawn);
    ctx.fillStyle = withAlpha(scene.nextColor, 0.12);
    ctx.fillRect(s.x, s.y, s.w, s.h);
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = scene.nextColor;
    ctx.strokeRect(s.x, s.y, s.w, s.h);
    ctx.setLineDash([]);
    drawSize(ctx, scene, s, drawn);
  }

  // Crosshair guides across the whole canvas in draw mode.
  const p = scene.pointer;
  if (scene.mode === 'draw' && p && g?.kind !== 'pan' && g?.kind !== 'move' && g?.kind !== 'resize') {
    const x = Math.round(p.x) + 0.5;
    const y = Math.round(p.y) + 0.5;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(size.width, y);
    ctx.moveTo(x, 0);
    ctx.lineTo(x, size.height);
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
    ctx.stroke();
  }
}

/** "w × h" in image pixels under a box being drawn or resized. */
function drawSize(ctx: CanvasRenderingContext2D, scene: Scene, s: Rect, r: Rect): void {
  const text = `${Math.round(r.w)} × ${Math.round(r.h)}`;
  ctx.font = '11px system-ui, sans-serif';
  const w = ctx.measureText(text).width + 8;
  const y = s.y + s.h + 4 + 15 <= scene.viewState.size.height ? s.y + s.h + 4 : s.y - 19;
  ctx.fillStyle = 'rgba(20, 22, 25, 0.85)';
  ctx.fillRect(s.x, y, w, 15);
  ctx.fillStyle = DEFAULT_COLOR;
  ctx.fillText(text, s.x + 4, y + 11);
}

/** `#rrggbb` with an alpha, as rgba(). */
function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  if (!Number.isFinite(n)) return `rgba(217, 220, 224, ${alpha})`;
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Black or white text, whichever reads better on the colour. */
function textColorOn(hex: string): string {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  const lum = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 150 ? '#111' : '#fff';
}
