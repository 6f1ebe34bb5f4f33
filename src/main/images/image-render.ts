/**
 * @file The sharp pipelines that make derived files (thumbnail, preview, tile pyramid) from a
 * user's image. They run in the image worker threads (image-worker.ts), never on the thread that
 * serves the UI, and treat every file as hostile: the header is read first and a file that is not
 * a raster image, or declares more than MAX_IMAGE_PIXELS, is refused before any decode; libvips
 * stops work that runs past its time limit.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { MAX_IMAGE_PIXELS, overPixelLimit } from './pixel-limit';

export const THUMB_SIDE = 256;
export const THUMB_QUALITY = 70;
export const TILE_SIZE = 512;
/**
 * Tiles and previews are JPEG: cutting a 9000x7000 pyramid takes 2 s here against 4.3 s for WebP,
 * and a canvas has no use for their alpha (flattened onto black).
 */
export const JPEG_QUALITY = 85;
/** libvips names the pyramid folder after the output file: `<name>_files/`. */
export const DZ_NAME = 'pyramid';

/** One derived file to make. `dest` is a temporary path the caller renames into place. */
export type ImageTask =
  | { kind: 'thumbnail'; source: string; dest: string }
  | { kind: 'preview'; source: string; dest: string; width: number; height: number }
  /** `dest` is a folder: `<dest>/pyramid.dzi` and `<dest>/pyramid_files/<level>/<col>_<row>.jpeg`. */
  | { kind: 'pyramid'; source: string; dest: string };

export type ImageTaskKind = ImageTask['kind'];

/** What boxtune decodes (sharp's names). SVG and PDF are refused: they can name other files and rasterize to any size. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif']);

/** Makes `task.dest`; errors carry the reason only (the caller names the file). */
export async function renderImage(task: ImageTask, timeLimitSeconds: number): Promise<void> {
  // stat never opens: a FIFO would block libvips' open for good, a device would be read without end.
  if (!(await fs.stat(task.source)).isFile()) throw new Error('not a regular file (a device, FIFO or socket)');
  // The header first (one open serves it and the pipeline): what it is and its declared size.
  const image = decode(task.source);
  const meta = await image.metadata().catch(async (err: unknown) => {
    // Over the limit: read the header again without it, to say the size it declares.
    if (!/exceeds pixel limit/.test((err as Error).message)) throw err;
    return sharp(task.source, { limitInputPixels: false }).metadata();
  });
  if (!meta.format || !RASTER_FORMATS.has(meta.format)) {
    throw new Error(`${meta.format ?? 'unknown'} content is not a raster image boxtune reads (JPEG, PNG, WebP, TIFF)`);
  }
  const refused = overPixelLimit(meta.width ?? 0, meta.height ?? 0);
  if (refused) throw new Error(refused);
  try {
    await pipeline(task, image.timeout({ seconds: timeLimitSeconds }));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const timeout = /^timeout: (\d+)% complete/.exec(message);
    if (timeout) {
      throw new Error(`took over ${timeLimitSeconds} s (stopped at ${timeout[1]}%): too large to process on this machine`);
    }
    throw err;
  }
}

function pipeline(task: ImageTask, image: Sharp): Promise<unknown> {
  switch (task.kind) {
    case 'thumbnail':
      return image
        .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: THUMB_QUALITY })
        .toFile(task.dest);
    case 'preview':
      return image
        .resize(task.width, task.height, { fit: 'fill' })
        .flatten({ background: '#000000' })
        .jpeg({ quality: JPEG_QUALITY })
        .toFile(task.dest);
    case 'pyramid':
      return image
        .flatten({ background: '#000000' })
        .jpeg({ quality: JPEG_QUALITY })
        .tile({ size: TILE_SIZE, overlap: 0, layout: 'dz', container: 'fs' })
        .toFile(path.join(task.dest, `${DZ_NAME}.dz`));
  }
}

/**
 * The file as the store sees it: EXIF orientation applied, lenient about truncation (failOn
 * 'none': a cut-off file still shows what decodes), and never more than MAX_IMAGE_PIXELS, which
 * libvips checks again on the header it decodes.
 */
function decode(source: string): Sharp {
  return sharp(source, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'none' }).rotate();
}
