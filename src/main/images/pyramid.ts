/**
 * @file Large images stay usable: a preview (longest side 2048) for anything bigger, to draw while
 * zoomed out, and for images over 4096 a DeepZoom tile pyramid (shared/deepzoom.ts has its math)
 * to draw full resolution only where zoomed in. Both are made on first request, once per content
 * hash (concurrent requests share the work), and land in the cache whole or not at all.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { dzHasTile, dzMaxLevel } from '../../shared/deepzoom';
import { TILE_EXT, type ImageRecord, type ImageView } from '../../shared/types';
import { SingleFlight } from '../util/single-flight';
import { exists, hashedFile, tempSibling, tilesDir, unreadable, writeAtomically, type ImageSource, type ProjectFiles } from './cache-files';
import { imageWorkers } from './image-pool';
import { DZ_NAME, TILE_SIZE } from './image-render';

export { TILE_SIZE } from './image-render';
/** Images whose longest side is over this get a preview of exactly this longest side. */
export const PREVIEW_SIDE = 2048;
/** Images whose longest side is over this get a tile pyramid. */
export const PYRAMID_MIN_SIDE = 4096;
const PREVIEW_EXT = 'jpeg';

type SizedImage = Pick<ImageRecord, 'width' | 'height'>;

/**
 * The preview's size: longest side PREVIEW_SIDE, the other scaled and rounded; null when the image
 * is no larger than that. sharp is given both sides, so the file is exactly this size.
 *
 * @example previewSize({ width: 9000, height: 7000 }) // { width: 2048, height: 1593 }
 */
export function previewSize(image: SizedImage): { width: number; height: number } | null {
  const side = Math.max(image.width, image.height);
  if (side <= PREVIEW_SIDE) return null;
  const scale = PREVIEW_SIDE / side;
  return {
    width: Math.max(1, Math.round(image.width * scale)),
    height: Math.max(1, Math.round(image.height * scale)),
  };
}

export function hasPyramid(image: SizedImage): boolean {
  return Math.max(image.width, image.height) > PYRAMID_MIN_SIDE;
}

/** How the canvas shows `image`; computed from the stored size alone (no file is read or made). */
export function imageView(image: Pick<ImageRecord, 'id' | 'width' | 'height'>): ImageView {
  return {
    id: image.id,
    width: image.width,
    height: image.height,
    preview: previewSize(image),
    tiles: hasPyramid(image) ? { tileSize: TILE_SIZE, levels: dzMaxLevel(image.width, image.height) + 1 } : null,
  };
}

// ---- preview ---------------------------------------------------------------------------------------

const previews = new SingleFlight<string>();

export function previewPath(root: string, hash: string): string {
  return hashedFile(root, 'previews', hash, PREVIEW_EXT);
}

/** The cached preview of `image`, made first if missing. NOT_FOUND for an image that needs none. */
export async function ensurePreview(files: ProjectFiles, image: ImageSource & SizedImage): Promise<string> {
  const size = previewSize(image);
  if (!size) throw new AppError('NOT_FOUND', `${image.path} is ${image.width}x${image.height}: small enough to need no preview`);
  const dest = previewPath(files.root, image.hash);
  if (await exists(dest)) return dest;
  return previews.run(dest, async () => {
    if (await exists(dest)) return dest;
    const source = files.absolutePath(image.path);
    await writeAtomically(dest, (temp) => imageWorkers.run({ kind: 'preview', source, dest: temp, ...size })).catch((err: unknown) => {
      throw unreadable(image.path, err);
    });
    return dest;
  });
}

// ---- tile pyramid -----------------------------------------------------------------------------------

const pyramids = new SingleFlight<string>();

/** The file of one tile, cutting the whole pyramid first if it is not cached. NOT_FOUND outside the pyramid. */
export async function ensureTile(
  files: ProjectFiles,
  image: ImageSource & SizedImage,
  tile: { level: number; col: number; row: number },
): Promise<string> {
  if (!hasPyramid(image)) {
    throw new AppError('NOT_FOUND', `${image.path} is ${image.width}x${image.height}: small enough to need no tiles`);
  }
  if (!dzHasTile(image.width, image.height, TILE_SIZE, tile.level, tile.col, tile.row)) {
    throw new AppError('NOT_FOUND', `no tile ${tile.level}/${tile.col}_${tile.row} in the pyramid of ${image.path}`);
  }
  const dir = await ensurePyramid(files, image);
  return path.join(dir, String(tile.level), `${tile.col}_${tile.row}.${TILE_EXT}`);
}

/**
 * The pyramid's folder, cut first if missing. libvips writes it into a temporary folder that is
 * renamed into place when complete, so an existing folder is always a whole pyramid.
 */
export async function ensurePyramid(files: ProjectFiles, image: ImageSource & SizedImage): Promise<string> {
  const dest = tilesDir(files.root, image.hash);
  if (await exists(dest)) return dest;
  return pyramids.run(dest, async () => {
    if (await exists(dest)) return dest;
    const work = tempSibling(dest);
    await fs.mkdir(work, { recursive: true });
    try {
      await imageWorkers.run({ kind: 'pyramid', source: files.absolutePath(image.path), dest: work }).catch((err: unknown) => {
        throw unreadable(image.path, err);
      });
      const levels = path.join(work, `${DZ_NAME}_files`);
      // Keep the descriptor with the tiles (for tools that read .dzi); drop vips' debug metadata.
      await fs.rename(path.join(work, `${DZ_NAME}.dzi`), path.join(levels, `${DZ_NAME}.dzi`));
      await fs.rm(path.join(levels, 'vips-properties.xml'), { force: true });
      await fs.rename(levels, dest).catch(async (err: NodeJS.ErrnoException) => {
        // Another process finished the same pyramid first: theirs is as good as ours.
        if (!(await exists(dest))) throw err;
      });
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
    return dest;
  });
}
