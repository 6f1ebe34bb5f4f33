/**
 * Hostile VOC xml: entity declarations (an external SYSTEM entity that would read another file, a
 * billion-laughs chain), parser-breaking XML and oversized files are each that file's problem,
 * listed with the others, and the import aborts as IMPORT_INVALID with nothing written.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../../src/main/dataset/import';
import { MAX_XML_BYTES, readVocDataset } from '../../../src/main/formats/voc';
import { LabelStore } from '../../../src/main/store/label-store';
import { AppError, type Problem } from '../../../src/shared/errors';
import { at, vocXml, writeTree } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
beforeEach(() => {
  tmp = tmpDir('boxtune-formats-');
});

const external = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE annotation [',
  '  <!ENTITY secret SYSTEM "file:///etc/passwd">',
  ']>',
  '<annotation><filename>&secret;</filename></annotation>',
].join('\n');

const laughs = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE annotation [',
  '  <!ENTITY lol "lol">',
  `  <!ENTITY lol1 "${'&lol;'.repeat(10)}">`,
  `  <!ENTITY lol2 "${'&lol1;'.repeat(10)}">`,
  `  <!ENTITY lol3 "${'&lol2;'.repeat(10)}">`,
  ']>',
  '<annotation><filename>a.jpg</filename><object><name>&lol3;</name>',
  '<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>',
].join('\n');

/** Passes the validator, breaks the parser (a DOCTYPE declaration it cannot read). */
const brokenEntity = '<!DOCTYPE annotation [<!ELEMENT>]>\n<annotation><filename>b.jpg</filename></annotation>\n';

async function vocRoot(extra: Record<string, string>): Promise<string> {
  await writeTree(tmp, {
    'VOC/Annotations/good.xml': vocXml('good.jpg', [32, 32], [{ name: 'cat', box: ['2', '3', '12', '13'] }]),
    'VOC/JPEGImages/good.jpg': { image: [32, 32] },
    'VOC/JPEGImages/a.jpg': { image: [32, 32] },
    ...Object.fromEntries(Object.entries(extra).map(([name, text]) => [`VOC/Annotations/${name}`, text])),
  });
  return at(tmp, 'VOC');
}

describe('readVocDataset: hostile xml is that file\'s problem', () => {
  it('refuses entity declarations, external or internal, naming the file and line', async () => {
    const dir = await vocRoot({ 'ext.xml': external, 'lol.xml': laughs });
    const ds = readVocDataset(dir);
    expect(ds.problems).toEqual([
      { file: at(dir, 'Annotations/ext.xml'), line: 3, message: expect.stringMatching(/declares XML entities .*<!ENTITY/) },
      { file: at(dir, 'Annotations/lol.xml'), line: 3, message: expect.stringMatching(/declares XML entities/) },
    ]);
    expect(ds.images.find((i) => i.absPath.endsWith('good.jpg'))).toMatchObject({ labeled: true, boxes: [expect.anything()] });
  });

  it('lists XML the parser cannot read as malformed, not as an internal error', async () => {
    const dir = await vocRoot({ 'b.xml': brokenEntity });
    expect(readVocDataset(dir).problems).toEqual([
      { file: at(dir, 'Annotations/b.xml'), line: 1, message: expect.stringMatching(/^malformed XML: .*element/) },
    ]);
  });

  it('refuses an xml file over the size limit without reading it', async () => {
    const dir = await vocRoot({});
    const big = at(dir, 'Annotations/big.xml');
    fs.writeFileSync(big, '<annotation>');
    fs.truncateSync(big, MAX_XML_BYTES + 1);
    expect(readVocDataset(dir).problems).toEqual([{ file: big, message: expect.stringMatching(/over the .* limit/) }]);
  });
});

describe('importDataset: a hostile VOC file aborts the import as IMPORT_INVALID', () => {
  it('lists the file among the problems and writes nothing', async () => {
    const dir = await vocRoot({ 'ext.xml': external, 'lol.xml': laughs, 'b.xml': brokenEntity });
    const store = LabelStore.create(path.join(tmp, 'project'));
    try {
      const digest = (): string => {
        const h = createHash('sha1');
        for (const { name } of store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]) {
          // Rows sorted as text: some tables have no rowid.
          h.update(JSON.stringify(store.db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort()));
        }
        return h.digest('hex');
      };
      const before = digest();
      let error: unknown;
      try {
        importDataset(store, { format: 'voc', source: dir });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('IMPORT_INVALID');
      const problems = ((error as AppError).details as { problems: Problem[] }).problems;
      expect(problems.map((p) => path.basename(p.file)).sort()).toEqual(['b.xml', 'ext.xml', 'lol.xml']);
      expect((error as AppError).message).toContain(`${at(dir, 'Annotations/ext.xml')}:3: `);
      expect(digest()).toBe(before);
    } finally {
      store.close();
    }
  });
});
