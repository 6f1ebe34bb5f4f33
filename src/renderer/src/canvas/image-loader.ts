/**
 * @file Turns an image record into pixels the canvas can draw at once: decoded off the main
 * thread into an ImageBitmap, so the first frame of a prefetched image costs a blit, not a
 * JPEG decode. With the image service's preview and DeepZoom tiles, the preview is the base and
 * the tiles come on demand while zoomed in; without them, the full image is the base.
 */
import type { CanvasImage, TileSource } from './types';

/** What the image service says about an image's pyramid (Api `images.view`). */
export interface ImageViewInfo {
  preview: { width: number; height: number } | null;
  tiles: { tileSize: number; levels: number } | null;
}

export interface ImageUrls {
  full: string;
  preview?: string;
  tile?: (level: number, col: number, row: number) => string;
}

/** Decodes one image URL to an ImageBitmap (the <img> path keeps the page's CSP img-src rules). */
export async function decodeImage(url: string): Promise<ImageBitmap> {
  const el = new Image();
  el.decoding = 'async';
  el.src = url;
  await el.decode();
  return createImageBitmap(el);
}

export async function loadCanvasImage(
  image: { id: number; width: number; height: number },
  urls: ImageUrls,
  view: ImageViewInfo | null = null,
): Promise<CanvasImage> {
  // The preview stands in for the full image only where tiles take over when zoomed in; an image
  // with a preview but no pyramid (longest side 2049..4096) is drawn from the file itself.
  const tiles: TileSource | null =
    view?.preview && view.tiles && urls.preview && urls.tile ? { tileSize: view.tiles.tileSize, url: urls.tile } : null;
  const base = await decodeImage(tiles ? urls.preview! : urls.full);
  return {
    imageId: image.id,
    width: image.width,
    height: image.height,
    base,
    baseWidth: base.width,
    baseHeight: base.height,
    tiles,
  };
}
