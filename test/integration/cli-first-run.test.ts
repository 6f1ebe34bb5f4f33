/**
 * What a newcomer types first, run as a child process: import into a folder that has no project,
 * `info | head`, and a model named like Ultralytics' (`yolo11n.pt`) while offline.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp';
import { writeSynthYolo } from '../helpers/yolo-synth';

const BIN = path.resolve(import.meta.dirname, '../../bin/boxtune.mjs');

function boxtune(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('boxtune on a first run', () => {
  it('import into a folder with no project creates the project there and says so', async () => {
    const work = tmpDir();
    const project = path.join(work, 'pets');
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 6, boxesPerImage: 1, classes: ['cat', 'dog'] });
    const run = boxtune(['import', yaml, `project=${project}`]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`created project "pets" in ${project}`);
    expect(run.stdout).toContain('imported 6 images and 6 boxes');
    expect(boxtune(['info', `project=${project}`]).stdout).toMatch(/6 images, 6 boxes, 2 classes/);
  });

  it('a failed import into a new folder leaves no half-made project behind', async () => {
    const work = tmpDir();
    const project = path.join(work, 'pets');
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 5, boxesPerImage: 1, classes: ['a'] });
    fs.writeFileSync(path.join(work, 'ds/labels/train/im2.txt'), '7 0.5 0.5 0.1 0.1\n');
    const run = boxtune(['import', yaml, `project=${project}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('class id 7 out of range');
    expect(fs.existsSync(project)).toBe(false);
  });

  it('info lists the classes that have boxes and counts the empty ones', async () => {
    const work = tmpDir();
    const project = path.join(work, 'p');
    const names = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus'];
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 4, boxesPerImage: 1, classes: names });
    // Every box is a person: the other five classes are named but empty, as in a COCO-named dataset.
    for (const dir of ['train', 'val']) {
      const labels = path.join(work, 'ds/labels', dir);
      for (const f of fs.readdirSync(labels)) fs.writeFileSync(path.join(labels, f), '0 0.5 0.5 0.2 0.2\n');
    }
    expect(boxtune(['import', yaml, `project=${project}`]).code).toBe(0);
    const info = boxtune(['info', `project=${project}`]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^ {2}person\s+\d+/m);
    expect(info.stdout).not.toMatch(/^ {2}bicycle/m);
    expect(info.stdout).toContain('(5 more classes have no boxes)');
  });

  it('info piped into a reader that closes early exits quietly', async () => {
    const work = tmpDir();
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 4, boxesPerImage: 1, classes: ['a'] });
    expect(boxtune(['import', yaml, `project=${work}/p`]).code).toBe(0);
    const run = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" info project="${work}/p" | head -c 1 >/dev/null`], { encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
    expect(run.status).toBe(0);
  });

  it('model=yolo11n.pt offline says what happened and what to do', () => {
    const work = tmpDir();
    const data = path.join(work, 'data');
    // Port 9 on 127.0.0.1: nothing listens, so the download fails at once, like a machine offline.
    const run = boxtune(['val', 'model=yolo11n.pt', 'data=coco8.yaml'], { cwd: work, env: { BOXTUNE_DATA_DIR: data, BOXTUNE_MODEL_MIRROR: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('ENOENT');
    expect(run.stderr).toContain(`yolo11n.pt is not in ${work}, and could not reach 127.0.0.1:9 to download yolo11n.pt`);
    expect(run.stderr).toContain(`put yolo11n.pt at ${path.join(data, 'models/yolo11n.pt')}`);
  });

  it('a missing path that names no downloadable model is a plain not-found', () => {
    const work = tmpDir();
    const run = boxtune(['val', 'model=weights/best.pt', 'data=coco8.yaml'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot read weights/best.pt: no such file (${path.join(work, 'weights/best.pt')})`);
  });
});
