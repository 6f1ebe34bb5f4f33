/** @file classes.*: the open project's classes; every change is announced, as counts and colours change everywhere. */
import { z } from 'zod';
import { ClassManager } from '../../store/class-manager';
import { projectChanged, write, type ArgsMatchApi, type Handlers, type ServiceContext } from './context';
import { empty, id } from './schema-parts';

const className = z.string().trim().min(1, 'a class needs a name').max(200);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must look like #rrggbb');

export const classesSchemas = {
  'classes.list': empty,
  'classes.create': z.strictObject({ name: className, color: color.optional() }),
  'classes.update': z.strictObject({ id, name: className.optional(), color: color.optional() }),
  'classes.reorder': z.strictObject({ ids: z.array(id).min(1).max(100_000) }),
  'classes.usage': z.strictObject({ id }),
  'classes.merge': z.strictObject({ sourceId: id, targetId: id }),
  'classes.delete': z.strictObject({ id }),
};
const _argsMatch: ArgsMatchApi<typeof classesSchemas> = true;
void _argsMatch;

export const classesHandlers = {
  'classes.list': (ctx) => ctx.requireStore().classes(),
  'classes.create': (ctx, args) => change(ctx, (m) => m.create(args.name, args.color)),
  'classes.update': (ctx, args) => change(ctx, (m) => m.update(args.id, args)),
  'classes.reorder': (ctx, args) => change(ctx, (m) => m.reorder(args.ids)),
  'classes.usage': (ctx, args) => new ClassManager(ctx.requireStore()).usage(args.id),
  'classes.merge': (ctx, args) => change(ctx, (m) => m.merge(args.sourceId, args.targetId)),
  'classes.delete': (ctx, args) => change(ctx, (m) => m.delete(args.id)),
} satisfies Handlers<typeof classesSchemas>;

/** A class write under the UI's write-lock wait; then every window is told, as counts and colours change. */
function change<T>(ctx: ServiceContext, fn: (manager: ClassManager) => T): T {
  const value = write(ctx, (store) => fn(new ClassManager(store)));
  projectChanged(ctx, ctx.requireStore().root);
  return value;
}
