/**
 * The one temp-folder helper: `tmpDir` for a test (removed after it), `suiteTmpDir` for a suite's
 * beforeAll (removed after the file's tests, or by the caller).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

const perTest: string[] = [];
const perSuite: string[] = [];

/** A fresh temp folder, removed after the current test. */
export function tmpDir(prefix = 'boxtune-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  perTest.push(dir);
  return dir;
}

/** A fresh temp folder that lives until the test file ends (for beforeAll). */
export function suiteTmpDir(prefix = 'boxtune-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  perSuite.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of perTest.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

afterAll(() => {
  for (const dir of perSuite.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
