/**
 * @file e2e helpers: run `npm run serve` (scripts/start.mjs --serve) as a child with its own
 * data folder and read the URL it prints; launch Debian's Chromium through playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { suiteTmpDir } from './tmp';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Chromium from the distribution (`apt-get install chromium`); CHROMIUM_PATH overrides. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ServedApp {
  /** The launch URL, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL to the whole process group: the server dies as in a crash, workers and all. */
  kill(): Promise<void>;
}

/**
 * Starts the server the way a user does, on a free port, with HOME and the data folder in `home`
 * so recent projects and samples never touch the real ones.
 */
export async function startServe(home: string, extraArgs: string[] = []): Promise<ServedApp> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), '--serve', '--port', '0', ...extraArgs], {
    cwd: repoRoot,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), BOXTUNE_DATA_DIR: path.join(home, 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() reaches start.mjs and the serve.ts child it runs.
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print its URL within 90 s:\n${out}`)), 90_000);
    const onData = (): void => {
      const m = /boxtune is running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code}:\n${out}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token') ?? '',
    output: () => out,
    stop: () => stopGroup(child),
    kill: () => killGroup(child),
  };
}

/** SIGTERM to the process group (a clean shutdown), SIGKILL if it is still there after 10 s. */
function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGKILL');
  return exited;
}

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: run \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Where e2e tests save what a person would see. */
export const screenshotDir = path.join(repoRoot, 'test-results/screenshots');

export interface E2eOptions {
  /** Runs first with the fresh home folder (make a project, a model); may return extra serve args. */
  prepare?: (home: string) => Promise<string[] | void>;
  /** Start the server (default true); a test that starts and kills its own says false. */
  serve?: boolean;
}

export interface E2e {
  readonly home: string;
  readonly app: ServedApp;
  readonly browser: Browser;
}

/**
 * The one e2e fixture: a temp home folder, the app served from it (as `npm run serve`) and Debian's
 * Chromium, made in beforeAll and taken down in afterAll. Use its fields inside tests and hooks.
 */
export function useE2e(prefix: string, opts: E2eOptions = {}): E2e {
  let home: string | undefined;
  let app: ServedApp | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    home = suiteTmpDir(prefix);
    fs.mkdirSync(screenshotDir, { recursive: true });
    const extra = (await opts.prepare?.(home)) ?? [];
    if (opts.serve !== false) app = await startServe(home, extra);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`e2e fixture: ${what} is not started (serve: false, or beforeAll failed)`);
    return v;
  };
  return {
    get home() {
      return need(home, 'home');
    },
    get app() {
      return need(app, 'the app');
    },
    get browser() {
      return need(browser, 'Chromium');
    },
  };
}

/** Calls the Api from inside the page, with the page's own token cookie (as the UI does). */
export function apiCall<T>(page: Page, method: string, args: unknown): Promise<T> {
  return page.evaluate(
    async ([m, a]) => {
      const res = await fetch(`/api/${m}`, { method: 'POST', body: JSON.stringify(a), headers: { 'Content-Type': 'application/json' } });
      const body = (await res.json()) as { ok: boolean; value: unknown; error?: { message: string } };
      if (!body.ok) throw new Error(body.error?.message);
      return body.value;
    },
    [method, args] as const,
  ) as Promise<T>;
}

/** A new page in its own context, with every page error and console error collected in `errors`. */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions = { viewport: { width: 1280, height: 800 } },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return { context, page, errors };
}
