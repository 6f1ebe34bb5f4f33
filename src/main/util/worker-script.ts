/**
 * @file Where a worker thread starts. In a build, the bundled `<name>.js` beside the caller (build
 * chunks sit beside the workers: electron.vite.config.ts). From source (tests, CLI, `npm run serve`),
 * `<name>.ts` beside the caller, loaded through tsx by the one bootstrap in this folder.
 *
 * @example
 * const w = workerScript(import.meta.url, 'image-worker');
 * new Worker(w.url, { argv: w.argv, workerData });
 */
export function workerScript(callerUrl: string, name: string): { url: URL; argv: string[] } {
  if (!callerUrl.endsWith('.ts')) return { url: new URL(`./${name}.js`, callerUrl), argv: [] };
  return { url: new URL('./tsx-worker-bootstrap.mjs', import.meta.url), argv: [new URL(`./${name}.ts`, callerUrl).href] };
}
