/**
 * @file The largest image boxtune decodes. An image file's header can declare any size, and a few
 * KB of PNG can declare 100000x100000 (a "pixel bomb"): decoding it would take minutes of CPU,
 * gigabytes of memory and, for a tile pyramid, gigabytes of disk. Every decode of a user's file
 * checks the declared size against this first, and import probing refuses larger files.
 *
 * 40000 x 40000 (1.6 Gpx): real large images (stitched panoramas, aerial and satellite scenes,
 * microscope mosaics) reach 20-40k a side, and an image this size still cuts into a pyramid of
 * ~8k tiles in about a minute on two cores (a 9000x7000 one takes 2 s). Whole-slide scans beyond it
 * need a slide viewer, not a labeler.
 */
export const MAX_IMAGE_SIDE = 40_000;
export const MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE;

/**
 * Why an image of the declared size is refused, or null when it is within the limit.
 *
 * @example overPixelLimit(100000, 100000)
 * // 'declared 100000x100000 pixels (10000 Mpx), over the limit of 1600 Mpx (40000x40000)'
 */
export function overPixelLimit(width: number, height: number): string | null {
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  const mpx = (n: number): string => `${Math.round(n / 1e6)} Mpx`;
  return `declared ${width}x${height} pixels (${mpx(width * height)}), over the limit of ${mpx(MAX_IMAGE_PIXELS)} (${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE})`;
}
