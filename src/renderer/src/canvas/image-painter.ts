/**
 * @file Draws the picture on the image layer cheaply at any zoom, without a GPU as well as with one.
 *
 * - Mipmaps: halvings of the base (down to ~512 px), made in the background with a good filter, so
 *   a zoomed-out view samples a source about its own size rather than a 12-megapixel bitmap.
 * - Below 2 device pixels per image pixel (smooth sampling): a cache of the image rendered once at
 *   the current zoom for the view plus a margin; a pan at that zoom is then a 1:1 copy at whole
 *   device pixels (the canvas snaps the view's translation to them), a fraction of a millisecond.
 * - From 2 device pixels per image pixel up (pixels shown as pixels): straight from the source or
 *   the full-resolution tiles with nearest-neighbour sampling, which costs little at any zoom.
 * - While the zoom changes, frames sample the nearest mipmap roughly (about 1 ms) and the smooth
 *   cache is made once the wheel has rested for SETTLE_MS.
 * In Chromium's software rasterizer a smooth scaled draw of a 4096x3072 image took 4-13 ms a frame,
 * a 1:1 copy 0.3 ms.
 */
import type { CanvasImage } from './types';
import { visibleImageRect, type Rect, type Size, type View } from './geometry';
import type { TileLoader } from './tile-loader';
import { tileLevel, visibleTiles } from './tiles';

/** How long the zoom must stay still before the smooth cache is made. */
export const SETTLE_MS = 140;
/** Device pixels per image pixel from which pixels are drawn as squares (no smoothing, no cache). */
const PIXEL_SCALE = 2;
/** Cache margin around the view, as a share of the view on each side. */
const MARGIN = 0.25;
const MIN_MIP_SIDE = 512;
/** Mipmaps are made this long after an image shows, so paging through images never waits on them. */
const MIP_DELAY_MS = 400;

interface Mip {
  /** Pixels of this bitmap per full-resolution image pixel. */
  density: number;
  bitmap: CanvasImageSource & { width: number; height: number };
}

interface Cache {
  canvas: HTMLCanvasElement;
  /** Device pixels per image pixel the cache was drawn at. */
  deviceScale: number;
  /** The part of the image it holds (image pixels; its corner on a whole device pixel). */
  region: Rect;
}

export class ImagePainter {
  #image: CanvasImage | null = null;
  #mips: Mip[] = [];
  #cache: Cache | null = null;
  #spare: HTMLCanvasElement | null = null;
  #lastZoomAt = -Infinity;
  #lastScale = 0;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  #mipTimer: ReturnType<typeof setTimeout> | undefined;

  /** `redraw` asks the canvas for another image-layer frame (a mipmap is ready, the zoom settled). */
  constructor(
    private readonly tiles: TileLoader,
    private readonly redraw: () => void,
  ) {}

  setImage(image: CanvasImage | null): void {
    if (image === this.#image) return;
    this.#image = image;
    this.#cache = null;
    this.#lastScale = 0;
    this.#mips = image ? [{ density: image.baseWidth / image.width, bitmap: image.base as Mip['bitmap'] }] : [];
    clearTimeout(this.#mipTimer);
    if (image && Math.max(image.baseWidth, image.baseHeight) / 2 >= MIN_MIP_SIDE) {
      this.#mipTimer = setTimeout(() => void this.#buildMips(image), MIP_DELAY_MS);
    }
  }

  dispose(): void {
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#mipTimer);
    this.#image = null;
    this.#mips = [];
    this.#cache = null;
    this.#spare = null;
  }

  /**
   * Draws the image for `view` on `ctx` (a Konva layer context: CSS pixels, the pixel ratio in its
   * transform). Returns true when the image's pixels were drawn.
   */
  draw(ctx: CanvasRenderingContext2D, view: View, viewport: Size, pixelRatio: number): boolean {
    const img = this.#image;
    if (!img) return false;
    const now = performance.now();
    if (view.scale !== this.#lastScale) {
      if (this.#lastScale !== 0) this.#lastZoomAt = now;
      this.#lastScale = view.scale;
    }
    const deviceScale = view.scale * pixelRatio;
    const visible = clip(visibleImageRect(view, viewport), img);
    const cache = this.#cache;
    const fresh = cache !== null && cache.deviceScale === deviceScale && contains(cache.region, visible);
    if (!fresh && now - this.#lastZoomAt < SETTLE_MS) {
      // Zooming: quick and a little rough; smooth (and sharp tiles) once the wheel rests.
      this.#drawRegion(ctx, img, view, deviceScale, visible, 'quick');
      clearTimeout(this.#settleTimer);
      this.#settleTimer = setTimeout(this.redraw, SETTLE_MS + 10);
      return true;
    }
    if (deviceScale >= PIXEL_SCALE || !this.#tilesReady(img, deviceScale, visible)) {
      // Pixels as squares are cheap to draw each frame; with tiles still coming, no cache yet.
      this.#cache = null;
      this.#drawRegion(ctx, img, view, deviceScale, visible, 'full');
      return true;
    }
    if (!fresh) this.#cache = this.#build(img, deviceScale, visible);
    const c = this.#cache!;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    // view.x / view.y sit on whole device pixels (the canvas snaps them), so this copy is 1:1.
    const dx = Math.round((c.region.x * view.scale + view.x) * pixelRatio);
    const dy = Math.round((c.region.y * view.scale + view.y) * pixelRatio);
    ctx.drawImage(c.canvas, dx, dy);
    ctx.restore();
    return true;
  }

  /** Renders the visible region plus a margin at `deviceScale` into an offscreen canvas. */
  #build(img: CanvasImage, deviceScale: number, visible: Rect): Cache {
    const mx = visible.w * MARGIN;
    const my = visible.h * MARGIN;
    const wide = clip({ x: visible.x - mx, y: visible.y - my, w: visible.w + 2 * mx, h: visible.h + 2 * my }, img);
    // Whole device pixels: the region's corner lands on one.
    const x0 = Math.floor(wide.x * deviceScale) / deviceScale;
    const y0 = Math.floor(wide.y * deviceScale) / deviceScale;
    const w = Math.max(1, Math.ceil((wide.x + wide.w - x0) * deviceScale));
    const h = Math.max(1, Math.ceil((wide.y + wide.h - y0) * deviceScale));
    const region = { x: x0, y: y0, w: w / deviceScale, h: h / deviceScale };
    // Two canvases take turns (a new one every zoom step would churn memory).
    const canvas = this.#spare ?? document.createElement('canvas');
    this.#spare = this.#cache?.canvas ?? null;
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, w, h);
    this.#drawRegion(ctx, img, { scale: deviceScale, x: -x0 * deviceScale, y: -y0 * deviceScale }, deviceScale, clip(region, img), 'full');
    return { canvas, deviceScale, region };
  }

  /**
   * Draws `region` (image pixels) at `view` (in `ctx`'s units) from the best mipmap for
   * `deviceScale`; 'full' also draws the full-resolution tiles that beat it and asks for the
   * missing ones, 'quick' samples roughly and skips tiles.
   */
  #drawRegion(ctx: CanvasRenderingContext2D, img: CanvasImage, view: View, deviceScale: number, region: Rect, how: 'quick' | 'full'): void {
    if (region.w <= 0 || region.h <= 0) return;
    const mip = this.#mipFor(deviceScale);
    ctx.imageSmoothingEnabled = how === 'full' && deviceScale < PIXEL_SCALE;
    ctx.imageSmoothingQuality = 'low';
    const d = mip.density;
    ctx.drawImage(mip.bitmap, region.x * d, region.y * d, region.w * d, region.h * d, region.x * view.scale + view.x, region.y * view.scale + view.y, region.w * view.scale, region.h * view.scale);
    if (how === 'quick' || !this.#usesTiles(img, deviceScale)) return;
    const tiles = img.tiles!;
    const wanted: string[] = [];
    for (const t of visibleTiles(img, tiles.tileSize, tileLevel(img, deviceScale), region)) {
      const url = tiles.url(t.level, t.col, t.row);
      const tile = this.tiles.get(url);
      if (!tile) {
        wanted.push(url);
        continue;
      }
      const q = t.rect;
      ctx.drawImage(tile, 0, 0, tile.naturalWidth, tile.naturalHeight, q.x * view.scale + view.x, q.y * view.scale + view.y, q.w * view.scale, q.h * view.scale);
    }
    this.tiles.want(wanted);
  }

  /** Tiles beat the base once the zoom passes the base's own resolution (the preview's). */
  #usesTiles(img: CanvasImage, deviceScale: number): boolean {
    return img.tiles !== null && deviceScale > (img.baseWidth / img.width) * 1.05;
  }

  /** All the tiles the region needs at this zoom are loaded (or none are needed). */
  #tilesReady(img: CanvasImage, deviceScale: number, region: Rect): boolean {
    if (!this.#usesTiles(img, deviceScale)) return true;
    const tiles = img.tiles!;
    return visibleTiles(img, tiles.tileSize, tileLevel(img, deviceScale), region).every((t) => this.tiles.has(tiles.url(t.level, t.col, t.row)));
  }

  /** The smallest mipmap with at least `deviceScale` pixels per image pixel (else the largest). */
  #mipFor(deviceScale: number): Mip {
    let best = this.#mips[0]!;
    for (const m of this.#mips) if (m.density >= deviceScale && m.density < best.density) best = m;
    return best;
  }

  async #buildMips(image: CanvasImage): Promise<void> {
    let w = image.baseWidth;
    let h = image.baseHeight;
    let source: ImageBitmapSource = image.base as ImageBitmapSource;
    while (Math.max(w, h) / 2 >= MIN_MIP_SIDE) {
      w = Math.round(w / 2);
      h = Math.round(h / 2);
      let bitmap: ImageBitmap;
      try {
        bitmap = await createImageBitmap(source, { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
      } catch {
        return; // the base alone still draws
      }
      if (this.#image !== image) return;
      this.#mips.push({ density: w / image.width, bitmap });
      source = bitmap;
    }
    // A better source for zoomed-out views: make the cache again from it.
    this.#cache = null;
    this.redraw();
  }
}

function clip(r: Rect, size: Size): Rect {
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(size.width, r.x + r.w);
  const y1 = Math.min(size.height, r.y + r.h);
  return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
}

/** True when `outer` holds all of `inner` (an empty inner always fits). */
function contains(outer: Rect, inner: Rect): boolean {
  if (inner.w <= 0 || inner.h <= 0) return true;
  const eps = 1e-6;
  return inner.x >= outer.x - eps && inner.y >= outer.y - eps && inner.x + inner.w <= outer.x + outer.w + eps && inner.y + inner.h <= outer.y + outer.h + eps;
}
