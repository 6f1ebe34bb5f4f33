/**
 * @file Box outlines rasterized by hand into a 32-bit pixel buffer, put on the boxes layer in one
 * putImageData. Axis-aligned outlines are rows filled with TypedArray.fill and short column runs,
 * so 2,000 boxes cost about a millisecond whatever the renderer: Chromium's software rasterizer
 * (no GPU: CI, VMs, remote desktops) took 10-70 ms to stroke the same boxes as canvas paths, most
 * of a frame. Pure (no DOM): unit-tested in Node.
 *
 * Pixels are RGBA bytes as ImageData holds them, read as little-endian 32-bit words (0xAABBGGRR),
 * which is every platform Electron runs on.
 */

/** `#rrggbb` (and an alpha 0..1) as a pixel word. */
export function pixelColor(hex: string, alpha = 1): number {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  const rgb = Number.isFinite(n) ? n : 0xd9dce0;
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255);
  return ((a << 24) | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;
}

export class BoxRaster {
  width = 0;
  height = 0;
  pixels = new Uint32Array(0);
  /** The part of the buffer drawn on since the last clear (x0, y0 inclusive; x1, y1 exclusive). */
  dirty = { x0: 0, y0: 0, x1: 0, y1: 0 };

  resize(width: number, height: number): boolean {
    const w = Math.max(1, Math.round(width));
    const h = Math.max(1, Math.round(height));
    if (w === this.width && h === this.height) return false;
    this.width = w;
    this.height = h;
    this.pixels = new Uint32Array(w * h);
    this.dirty = { x0: w, y0: h, x1: 0, y1: 0 };
    return true;
  }

  /** Clears what the last frame drew (only that: the rest is still transparent). */
  clear(): void {
    const { x0, y0, x1, y1 } = this.dirty;
    if (x1 > x0 && y1 > y0) {
      if (x0 === 0 && x1 === this.width) this.pixels.fill(0, y0 * this.width, y1 * this.width);
      else for (let y = y0; y < y1; y++) this.pixels.fill(0, y * this.width + x0, y * this.width + x1);
    }
    this.dirty = { x0: this.width, y0: this.height, x1: 0, y1: 0 };
  }

  /**
   * The outline of the pixel rect [x0, x1) x [y0, y1), `thickness` pixels wide inside it, clipped
   * to the buffer. `dash` > 0 draws dashes of `dash` pixels with gaps of the same.
   */
  outline(x0: number, y0: number, x1: number, y1: number, color: number, thickness = 1, dash = 0): void {
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    const t = Math.max(1, Math.min(thickness, Math.ceil((x1 - x0) / 2), Math.ceil((y1 - y0) / 2)));
    for (let k = 0; k < t; k++) {
      this.#hline(x0, x1, y0 + k, color, dash, x0);
      this.#hline(x0, x1, y1 - 1 - k, color, dash, x0);
    }
    for (let k = 0; k < t; k++) {
      this.#vline(x0 + k, y0 + t, y1 - t, color, dash, y0);
      this.#vline(x1 - 1 - k, y0 + t, y1 - t, color, dash, y0);
    }
  }

  #hline(xa: number, xb: number, y: number, color: number, dash: number, origin: number): void {
    if (y < 0 || y >= this.height) return;
    const a = Math.max(0, xa);
    const b = Math.min(this.width, xb);
    if (b <= a) return;
    this.#touch(a, y, b, y + 1);
    const row = y * this.width;
    if (dash <= 0) {
      this.pixels.fill(color, row + a, row + b);
      return;
    }
    // Dashes stay put along the box as it is clipped: phase from the box's own edge.
    for (let x = a; x < b; x++) if (((x - origin) / dash) % 2 < 1) this.pixels[row + x] = color;
  }

  #vline(x: number, ya: number, yb: number, color: number, dash: number, origin: number): void {
    if (x < 0 || x >= this.width) return;
    const a = Math.max(0, ya);
    const b = Math.min(this.height, yb);
    if (b <= a) return;
    this.#touch(x, a, x + 1, b);
    const w = this.width;
    for (let y = a; y < b; y++) if (dash <= 0 || ((y - origin) / dash) % 2 < 1) this.pixels[y * w + x] = color;
  }

  #touch(x0: number, y0: number, x1: number, y1: number): void {
    const d = this.dirty;
    if (x0 < d.x0) d.x0 = x0;
    if (y0 < d.y0) d.y0 = y0;
    if (x1 > d.x1) d.x1 = x1;
    if (y1 > d.y1) d.y1 = y1;
  }
}
