/**
 * @file Reads what the store keeps about an image file: content hash and pixel size, from the
 * header only (no decode), so probing 100k files takes seconds. EXIF orientation is applied to the
 * size the way Ultralytics' exif_size does (orientations 5-8 swap width and height). A file whose
 * header declares more than MAX_IMAGE_PIXELS (a pixel bomb), or that holds SVG, is refused here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { imageSize } from 'image-size';
import { readRegularFile } from '../util/regular-file';
import { overPixelLimit } from './pixel-limit';

export interface ImageProbe {
  hash: string;
  width: number;
  height: number;
}

export type ProbeResult = { ok: true; probe: ImageProbe } | { ok: false; reason: string };

export function probeImage(absPath: string): ProbeResult {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTREG') return { ok: false, reason: 'not a regular file (a device, FIFO or socket)' };
    return { ok: false, reason: code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (err as Error).message})` };
  }
  if (bytes.length === 0) return { ok: false, reason: 'empty file' };
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch (err) {
    return { ok: false, reason: `not a readable image (${(err as Error).message})` };
  }
  if (!size.width || !size.height) return { ok: false, reason: 'image has no size in its header' };
  // SVG can name other files and rasterize to any size; no decoder here is handed one.
  if (size.type === 'svg') return { ok: false, reason: 'svg content is not a raster image boxtune reads (JPEG, PNG, WebP, TIFF)' };
  const refused = overPixelLimit(size.width, size.height);
  if (refused) return { ok: false, reason: refused };
  const swap = size.orientation !== undefined && size.orientation >= 5 && size.orientation <= 8;
  return {
    ok: true,
    probe: {
      hash: createHash('sha1').update(bytes).digest('hex'),
      width: swap ? size.height : size.width,
      height: swap ? size.width : size.height,
    },
  };
}

