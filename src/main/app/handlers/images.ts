/** @file images.*: browse the open project's images, their boxes, predictions and zoom levels. */
import { z } from 'zod';
import { IMAGE_STATUSES } from '../../../shared/types';
import { contentTypeFor } from '../../images/content-type';
import { resolveImageAsset, type AssetFile, type ImageAsset } from '../../images/image-assets';
import { imageView } from '../../images/pyramid';
import { BoxEditor } from '../../store/box-editor';
import { imagePredictions } from '../../store/predictions';
import { write, type ArgsMatchApi, type Handlers, type ServiceContext } from './context';
import { empty, id, split } from './schema-parts';

export const imageFilter = z.strictObject({
  split: split.optional(),
  status: z.enum(IMAGE_STATUSES).optional(),
  classId: id.optional(),
  hasPredictions: z.boolean().optional(),
  search: z.string().max(500).optional(),
});

export const imagesSchemas = {
  'images.page': z.strictObject({
    filter: imageFilter.optional(),
    afterId: z.number().int().min(0).optional(),
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
  'images.get': z.strictObject({ id }),
  'images.boxes': z.strictObject({ id }),
  'images.predictions': z.strictObject({ id }),
  'images.neighbors': z.strictObject({ id, filter: imageFilter.optional() }),
  'images.setStatus': z.strictObject({ id, status: z.enum(IMAGE_STATUSES) }),
  'images.view': z.strictObject({ id }),
  'images.generateThumbnails': empty,
};
const _argsMatch: ArgsMatchApi<typeof imagesSchemas> = true;
void _argsMatch;

export const imagesHandlers = {
  'images.page': (ctx, args) => ctx.requireStore().page(args),
  'images.get': (ctx, args) => ctx.requireStore().getImage(args.id),
  'images.boxes': (ctx, args) => {
    const store = ctx.requireStore();
    store.getImage(args.id); // NOT_FOUND for an unknown image rather than an empty list
    return store.boxes(args.id);
  },
  'images.predictions': (ctx, args) => {
    const store = ctx.requireStore();
    store.getImage(args.id);
    return imagePredictions(store, args.id);
  },
  'images.neighbors': (ctx, args) => {
    const store = ctx.requireStore();
    store.getImage(args.id); // NOT_FOUND for an unknown image rather than neighbours of nothing
    return store.neighbors(args.id, args.filter ?? {});
  },
  // Undoable like a box edit.
  'images.setStatus': (ctx, args) => write(ctx, (store) => new BoxEditor(store).setStatus(args.id, args.status)),
  'images.view': (ctx, args) => imageView(ctx.requireStore().getImage(args.id)),
  'images.generateThumbnails': async (ctx) => ({ jobId: await ctx.thumbnails.start(ctx.requireStore()) }),
} satisfies Handlers<typeof imagesSchemas>;

/** The file behind an image id. Only images registered in the open project are ever served. */
export function imageFile(ctx: ServiceContext, imageId: number): { absPath: string; contentType: string } {
  const store = ctx.requireStore();
  const absPath = store.absolutePath(store.getImage(imageId).path);
  return { absPath, contentType: contentTypeFor(absPath) };
}

/** The file behind an image URL: the original, or its thumbnail, preview or a tile (made on first request). */
export function imageAsset(ctx: ServiceContext, imageId: number, asset: ImageAsset): Promise<AssetFile> {
  return resolveImageAsset(ctx.requireStore(), imageId, asset);
}
