/** The real `boxtune` command, run as a child process the way a person runs it. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/main/cli/args';
import { tmpDir } from '../helpers/tmp';
import { writeSynthYolo } from '../helpers/yolo-synth';

const BIN = path.resolve(import.meta.dirname, '../../bin/boxtune.mjs');

function boxtune(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('argument parsing', () => {
  it('takes key=value and --key value alike', () => {
    const a = parseArgs(['import', 'data.yaml', 'project=./p', 'copy', '--images-dir', 'imgs', 'split=val'], ['copy']);
    expect(a.command).toBe('import');
    expect(a.positional).toEqual(['data.yaml']);
    expect(Object.fromEntries(a.options)).toEqual({ project: './p', copy: 'true', images_dir: 'imgs', split: 'val' });
    expect(parseArgs(['x', '--a=1', '--b', '--c', '2']).options).toEqual(new Map([['a', '1'], ['b', 'true'], ['c', '2']]));
  });
});

describe('boxtune CLI', () => {
  it('creates, imports, reports, splits and exports', async () => {
    const work = tmpDir();
    const project = path.join(work, 'proj');
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 20, boxesPerImage: 2, classes: ['cat', 'dog'] });

    expect(boxtune('create', `project=${project}`, 'name=Pets')).toMatchObject({ code: 0, stdout: expect.stringContaining('created project "Pets"') });
    const imported = boxtune('import', yaml, `project=${project}`);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('imported 20 images and 40 boxes');
    expect(imported.stdout).toContain('new classes: cat, dog');

    const info = boxtune('info', '--project', project);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/20 images, 40 boxes, 2 classes/);
    expect(info.stdout).toMatch(/images\s+16\s+4/); // train 16, val 4
    expect(info.stdout).toMatch(/^ {2}cat\s+\d+\s+\d+$/m);

    const splits = boxtune('splits', `project=${project}`, 'train=0.5', 'val=0.25', 'test=0.25', 'all');
    expect(splits.code).toBe(0);
    expect(splits.stdout).toMatch(/assigned 20 images/);
    expect(splits.stdout).toMatch(/images\s+10\s+5\s+5/);

    const out = path.join(work, 'export');
    const exported = boxtune('export', out, `project=${project}`, 'format=coco', 'images=copy');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('exported 20 images and 40 boxes as coco');
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['instances_test.json', 'instances_train.json', 'instances_val.json']);

    // Without images=, the images are copies: the export never shares a file with the project.
    const yolo = path.join(work, 'export-yolo');
    expect(boxtune('export', yolo, `project=${project}`, 'format=yolo').code).toBe(0);
    const exportedImages = ['train', 'val', 'test'].flatMap((s) => fs.readdirSync(path.join(yolo, 'images', s)).map((f) => path.join(yolo, 'images', s, f)));
    expect(exportedImages).toHaveLength(20);
    for (const f of exportedImages) expect(fs.statSync(f).nlink, f).toBe(1);
  });

  it('prints every problem as file:line and exits non-zero, importing nothing', async () => {
    const work = tmpDir();
    const project = path.join(work, 'proj');
    const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 5, boxesPerImage: 1, classes: ['a'] });
    const bad = path.join(work, 'ds/labels/train/im2.txt');
    fs.writeFileSync(bad, '0 0.5 0.5 0.1 0.1\n0 0.5 0.5\n4 0.5 0.5 0.1 0.1\n');
    const run = boxtune('import', yaml, `project=${project}`, 'create');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nothing was imported: 2 problems');
    expect(run.stderr).toContain(`${bad}:2: expected 5 columns`);
    expect(run.stderr).toContain(`${bad}:3: column 1: class id 4 out of range`);
    expect(boxtune('info', `project=${project}`).stdout).toMatch(/0 images, 0 boxes/);
  });

  it('explains usage mistakes', () => {
    expect(boxtune()).toMatchObject({ code: 1, stdout: expect.stringContaining('Usage:') });
    expect(boxtune('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
    expect(boxtune('info', `project=${tmpDir()}`)).toMatchObject({ code: 1, stderr: expect.stringContaining('no boxtune project') });
    expect(boxtune('export', 'x', 'format=pdf', `project=${tmpDir()}`)).toMatchObject({ code: 2, stderr: expect.stringContaining('format must be one of yolo, coco, voc') });
  });
});
