/** @file app.*: what this build is and where it runs. */
import { describeBackends } from '../../model/backend-report';
import { LabelStore } from '../../store/label-store';
import type { ArgsMatchApi, Handlers } from './context';
import { empty } from './schema-parts';

export const APP_VERSION = '0.1.0';

export const appSchemas = {
  'app.info': empty,
  'app.backends': empty,
};
const _argsMatch: ArgsMatchApi<typeof appSchemas> = true;
void _argsMatch;

export const appHandlers = {
  'app.info': (ctx) => ({
    version: APP_VERSION,
    shell: ctx.shell,
    project: ctx.store ? { root: ctx.store.root, name: ctx.store.name } : null,
    recentProjects: ctx.settings.recentProjects().filter((p) => LabelStore.isProject(p)),
  }),
  'app.backends': () => describeBackends(),
} satisfies Handlers<typeof appSchemas>;
