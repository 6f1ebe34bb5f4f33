/**
 * @file The files behind image URLs, for both transports (the HTTP server's /api/images/<id>/...
 * and Electron's boxtune-image://<id>/...): the strict parser of the URL part after the id, the
 * lookup of the file it names, and the caching headers. Only images registered in the open
 * project are ever served, and no part of a URL is ever joined into a path: each part is matched
 * whole against a pattern and turned into numbers first.
 */
import { AppError } from '../../shared/errors';
import { TILE_EXT } from '../../shared/types';
import type { LabelStore } from '../store/label-store';
import { contentTypeFor } from './content-type';
import { ensurePreview, ensureTile } from './pyramid';
import { ensureThumbnail, THUMB_EXT } from './thumbnails';

export type ImageAsset =
  | { kind: 'file' }
  | { kind: 'thumb' }
  | { kind: 'preview' }
  | { kind: 'tile'; level: number; col: number; row: number };

export interface AssetFile {
  absPath: string;
  contentType: string;
  /** The image's content hash: what a `?v=` version in the URL is checked against. */
  hash: string;
}

/** Canonical non-negative integers only: no sign, no leading zeros, no exponent, at most 6 digits. */
const INT = '(0|[1-9]\\d{0,5})';
const TILE = new RegExp(`^tiles/${INT}/${INT}_${INT}\\.${TILE_EXT}$`);

/**
 * Parses the path after the image id. Unknown asset names are NOT_FOUND; a malformed tile path
 * is INVALID_INPUT (the 400 / 404 the routes answer).
 *
 * @example parseImageAsset('thumb')               // { kind: 'thumb' }
 * @example parseImageAsset('tiles/14/3_12.jpeg')  // { kind: 'tile', level: 14, col: 3, row: 12 }
 * @example parseImageAsset('tiles/14/03_1.jpeg')  // throws INVALID_INPUT
 */
export function parseImageAsset(rest: string): ImageAsset {
  if (rest === '' || rest === 'file') return { kind: 'file' };
  if (rest === 'thumb') return { kind: 'thumb' };
  if (rest === 'preview') return { kind: 'preview' };
  if (rest === 'tiles' || rest.startsWith('tiles/')) {
    const m = TILE.exec(rest);
    if (!m) throw new AppError('INVALID_INPUT', `bad tile path ${JSON.stringify(rest.slice(0, 100))}: expected tiles/<level>/<col>_<row>.${TILE_EXT}`);
    return { kind: 'tile', level: Number(m[1]), col: Number(m[2]), row: Number(m[3]) };
  }
  throw new AppError('NOT_FOUND', `no image asset ${JSON.stringify(rest.slice(0, 100))}: expected file, thumb, preview or tiles/…`);
}

/** An image id from a URL part: a positive safe integer, or INVALID_INPUT. */
export function parseImageId(text: string): number {
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id)) throw new AppError('INVALID_INPUT', `bad image id ${JSON.stringify(text.slice(0, 40))}`);
  return id;
}

/** The file for `asset` of image `id` in the open project; thumbnails, previews and tiles are made on first request. */
export async function resolveImageAsset(store: LabelStore, id: number, asset: ImageAsset): Promise<AssetFile> {
  const image = store.getImage(id);
  const file = (absPath: string, contentType: string): AssetFile => ({ absPath, contentType, hash: image.hash });
  switch (asset.kind) {
    case 'file': {
      const absPath = store.absolutePath(image.path);
      return file(absPath, contentTypeFor(absPath));
    }
    case 'thumb':
      return file(await ensureThumbnail(store, image), `image/${THUMB_EXT}`);
    case 'preview':
      return file(await ensurePreview(store, image), 'image/jpeg');
    case 'tile':
      return file(await ensureTile(store, image, asset), 'image/jpeg');
  }
}
