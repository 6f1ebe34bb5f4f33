/** @file boxes.* and edits.*: box edits, each committed at once and one undo step of its image. */
import { z } from 'zod';
import { BoxEditor } from '../../store/box-editor';
import { write, type ArgsMatchApi, type Handlers, type ServiceContext } from './context';
import { id } from './schema-parts';

/** Pixel coordinates: finite, and within any image boxtune can open. */
const coord = z.number().finite().min(-1e6).max(1e6);
const size = z.number().finite().min(0).max(1e6);
const newBox = z.strictObject({ classId: id, x: coord, y: coord, w: size, h: size });
const boxChange = z.strictObject({
  id,
  classId: id.optional(),
  x: coord.optional(),
  y: coord.optional(),
  w: size.optional(),
  h: size.optional(),
});

export const boxesSchemas = {
  'boxes.create': z.strictObject({ imageId: id, boxes: z.array(newBox).min(1).max(10_000) }),
  'boxes.update': z.strictObject({ imageId: id, changes: z.array(boxChange).min(1).max(10_000) }),
  'boxes.delete': z.strictObject({ imageId: id, ids: z.array(id).min(1).max(10_000) }),
  'boxes.copyFrom': z.strictObject({ imageId: id, fromImageId: id, ids: z.array(id).min(1).max(10_000).optional() }),
  'edits.undo': z.strictObject({ imageId: id }),
  'edits.redo': z.strictObject({ imageId: id }),
  'edits.state': z.strictObject({ imageId: id }),
};
const _argsMatch: ArgsMatchApi<typeof boxesSchemas> = true;
void _argsMatch;

export const boxesHandlers = {
  'boxes.create': (ctx, args) => edit(ctx, (e) => e.create(args.imageId, args.boxes)),
  'boxes.update': (ctx, args) => edit(ctx, (e) => e.update(args.imageId, args.changes)),
  'boxes.delete': (ctx, args) => edit(ctx, (e) => e.delete(args.imageId, args.ids)),
  'boxes.copyFrom': (ctx, args) => {
    ctx.requireStore().getImage(args.fromImageId); // NOT_FOUND rather than an empty copy
    return edit(ctx, (e) => e.copyFrom(args.imageId, args.fromImageId, args.ids));
  },
  'edits.undo': (ctx, args) => edit(ctx, (e) => e.undo(args.imageId)),
  'edits.redo': (ctx, args) => edit(ctx, (e) => e.redo(args.imageId)),
  'edits.state': (ctx, args) => {
    const store = ctx.requireStore();
    store.getImage(args.imageId);
    return new BoxEditor(store).state(args.imageId);
  },
} satisfies Handlers<typeof boxesSchemas>;

/** An edit of the open project under the UI's write-lock wait (context.ts `write`). */
function edit<T>(ctx: ServiceContext, fn: (editor: BoxEditor) => T): T {
  return write(ctx, (store) => fn(new BoxEditor(store)));
}
