/**
 * @file Draws the picture on the image layer cheaply at any zoom, without a GPU as well as with one.
 *
 * - Mipmaps: halvings of the base (down to ~512 px), made in the background with a good filter, so
 *   a zoomed-out view samples a source about its own size rather than a 12-megapixel bitmap.
 * - A screen-scale cache: the image rendered once at the current zoom (smoothly, tiles included)
 *   for the view plus a margin; panning at that zoom is then a 1:1 copy at whole device pixels
 *   (the view's translation is snapped to them), a fraction of a millisecond.
 * - While the zoom changes, frames draw straight from the nearest mipmap with nearest-neighbour
 *   sampling (about 1 ms), and the smooth cache is rebuilt once the wheel has been still for
 *   SETTLE_MS.
 * In Chromium's software rasterizer a smooth scaled draw of a 4096x3072 image took 4-13 ms a frame,
 * a 1:1 copy 0.3 ms.
 */
import type { CanvasImage } from './annotation-canvas';
import { intersects, visibleImageRect, type Rect, type Size, type View } from './geometry';
import type { TileLoader } from './tile-loader';
import { tileLevel, visibleTiles } from './tiles';

/** How long the zoom must stay still before the smooth cache is rebuilt. */
export const SETTLE_MS = 140;
/** Cache margin around the view, as a share of the view on each side. */
const MARGIN = 0.5;
const MIN_MIP_SIDE = 512;

interface Mip {
  /** Pixels of this bitmap per full-resolution image pixel. */
  density: number;
  bitmap: CanvasImageSource & { width: number; height: number };
}

interface Cache {
  canvas: HTMLCanvasElement;
  /** Device pixels per image pixel the cache was drawn at. */
  deviceScale: number;
  /** The part of the image it holds (image pixels). */
  region: Rect;
  /** Some tiles were still loading: rebuild when they arrive. */
  complete: boolean;
}

export class ImagePainter {
  #image: CanvasImage | null = null;
  #mips: Mip[] = [];
  #cache: Cache | null = null;
  #spare: HTMLCanvasElement | null = null;
  #lastZoomAt = -Infinity;
  #lastScale = 0;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;

  /** `redraw` asks the canvas for another image-layer frame (a mipmap or a tile is ready, the zoom settled). */
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
    if (image) void this.#buildMips(image);
  }

  /** A tile arrived: the cache may be missing it. */
  tileArrived(): void {
    if (this.#cache && !this.#cache.complete) this.#cache = null;
  }

  dispose(): void {
    clearTimeout(this.#settleTimer);
    this.#image = null;
    this.#mips = [];
    this.#cache = null;
    this.#spare = null;
  }

  /**
   * Draws the image for `view` on `ctx` (a Konva layer context: CSS-pixel transform with the pixel
   * ratio applied). Returns true when the image's pixels were drawn.
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
    const visible = visibleImageRect(view, viewport);
    const cache = this.#cache;
    const fresh = cache && cache.deviceScale === deviceScale && contains(cache.region, clipToImage(visible, img));
    if (!fresh && now - this.#lastZoomAt < SETTLE_MS) {
      // Zooming: quick and a little rough, then smooth once the wheel rests.
      this.#drawDirect(ctx, img, view, deviceScale, false);
      clearTimeout(this.#settleTimer);
      this.#settleTimer = setTimeout(this.redraw, SETTLE_MS + 10);
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
    const region = clipToImage({ x: visible.x - mx, y: visible.y - my, w: visible.w + 2 * mx, h: visible.h + 2 * my }, img);
    // Whole device pixels: the region's corner lands on one.
    const x0 = Math.floor(region.x * deviceScale) / deviceScale;
    const y0 = Math.floor(region.y * deviceScale) / deviceScale;
    const w = Math.max(1, Math.ceil((region.x + region.w) * deviceScale - x0 * deviceScale));
    const h = Math.max(1, Math.ceil((region.y + region.h) * deviceScale - y0 * deviceScale));
    // Reuse the previous cache's canvas (a new one every zoom step would churn memory).
    const canvas = this.#spare && this.#spare !== this.#cache?.canvas ? this.#spare : document.createElement('canvas');
    this.#spare = this.#cache?.canvas ?? null;
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, w, h);
    const at: View = { scale: deviceScale, x: -x0 * deviceScale, y: -y0 * deviceScale };
    const complete = this.#drawDirect(ctx, img, at, deviceScale, true, { x: x0, y: y0, w: w / deviceScale, h: h / deviceScale });
    return { canvas, deviceScale, region: { x: x0, y: y0, w: w / deviceScale, h: h / deviceScale }, complete };
  }

  /**
   * Draws `region` of the image (default all) at `view` from the best mipmap for `deviceScale`,
   * then, when smooth, the full-resolution tiles that beat it. Returns false when some of those
   * tiles are still loading.
   */
  #drawDirect(ctx: CanvasRenderingContext2D, img: CanvasImage, view: View, deviceScale: number, smooth: boolean, region?: Rect): boolean {
    const mip = this.#mipFor(deviceScale);
    ctx.imageSmoothingEnabled = smooth && deviceScale < 2;
    ctx.imageSmoothingQuality = 'low';
    const r = region ?? { x: 0, y: 0, w: img.width, h: img.height };
    const area = clipToImage(r, img);
    if (area.w <= 0 || area.h <= 0) return true;
    ctx.drawImage(
      mip.bitmap,
      area.x * mip.density,
      area.y * mip.density,
      area.w * mip.density,
      area.h * mip.density,
      area.x * view.scale + view.x,
      area.y * view.scale + view.y,
      area.w * view.scale,
      area.h * view.scale,
    );
    const tiles = img.tiles;
    if (!tiles || !smooth || deviceScale <= (img.baseWidth / img.width) * 1.05) {
      if (tiles) this.tiles.want([]);
      return true;
    }
    const level = tileLevel(img, deviceScale);
    const wanted: string[] = [];
    for (const t of visibleTiles(img, tiles.tileSize, level, area)) {
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
    return wanted.length === 0;
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
      // A better source for the current zoom: rebuild the cache from it.
      this.#cache = null;
      this.redraw();
    }
  }
}

function clipToImage(r: Rect, size: Size): Rect {
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
  return (
    intersects(outer, inner) &&
    inner.x >= outer.x - eps &&
    inner.y >= outer.y - eps &&
    inner.x + inner.w <= outer.x + outer.w + eps &&
    inner.y + inner.h <= outer.y + outer.h + eps
  );
}
