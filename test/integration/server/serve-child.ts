/**
 * The real server as a child process (`node --import tsx src/main/serve.ts`), so a test can see
 * whether hostile input kills the process, which an in-process server could not show.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServeChild {
  port: number;
  token: string;
  child: ChildProcess;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  /** True while the process runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

/** `cwd` (default the repository): where relative paths would land, so a test can watch it. */
export async function startServeChild(dataDir: string, extraArgs: string[] = [], cwd = repoRoot): Promise<ServeChild> {
  // tsx resolves from the working directory, so it is loaded by absolute path.
  const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', tsx, path.join(repoRoot, 'src/main/serve.ts'), '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print its URL within 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /boxtune is running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      resolve(new URL(m[1]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code}:\n${out}`));
    });
  });
  return {
    port: Number(url.port),
    token: url.searchParams.get('token') ?? '',
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
