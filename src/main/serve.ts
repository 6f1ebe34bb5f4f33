/**
 * @file Browser-mode entry: the service plus the local HTTP server, no Electron.
 *
 *   node --import tsx src/main/serve.ts [--port N] [--project DIR] [--data-dir DIR]
 *
 * Prints exactly one line, `boxtune is running at <url>`, and runs until SIGINT/SIGTERM.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProblem, type Problem } from '../shared/errors';
import { createDispatcher } from './app/dispatch';
import { BoxtuneService } from './app/service';
import { startServer } from './server/http-server';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      project: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);

  const service = new BoxtuneService({ shell: 'browser', dataDir: values['data-dir'] });
  const dispatch = createDispatcher(service);
  if (values.project) {
    const opened = await dispatch('project.open', { dir: path.resolve(values.project) });
    if (!opened.ok) {
      await service.close();
      fail(`cannot open ${values.project}: ${opened.error.message}`);
    }
  }

  const server = await startServer({ service, dispatch, port, staticDir: path.join(repoRoot, 'out/renderer') });
  console.log(`boxtune is running at ${server.url}`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

function fail(message: string): never {
  console.error(`boxtune: ${message}`);
  process.exit(1);
}

main().catch((err: unknown) => {
  const problems = (err as { details?: { problems?: Problem[] } }).details?.problems;
  console.error(`boxtune: ${(err as Error).message ?? String(err)}`);
  for (const p of problems ?? []) console.error(`  ${formatProblem(p)}`);
  process.exit(1);
});
