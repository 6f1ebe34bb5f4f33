import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem, locateTopLevelArrays } from '../../../src/main/formats/json-locate';

describe('locateTopLevelArrays', () => {
  it('gives the start line of each element of each top-level array', () => {
    const text = [
      '{',
      '  "info": {"images": ["not", "top level"]},',
      '  "images": [',
      '    {"id": 1, "file_name": "a \\" [ { , b.jpg"},',
      '    {',
      '      "id": 2, "nested": [1, 2, {"x": [3]}]',
      '    }, "three",',
      '    4',
      '  ],',
      '  "empty": [],',
      '  "annotations": [{"id": 1}, {"id": 2},',
      '{"id": 3}]',
      '}',
    ].join('\n');
    const lines = locateTopLevelArrays(text);
    expect(JSON.parse(text)).toBeTruthy();
    expect(lines.get('images')).toEqual([4, 5, 7, 8]);
    expect(lines.get('empty')).toEqual([]);
    expect(lines.get('annotations')).toEqual([11, 11, 12]);
    expect(lines.has('info')).toBe(false);
  });

  it('handles keys with escapes and minified json', () => {
    const text = '{"a\\"b":[1,\n2],"c":[[1],\n[2]]}';
    const lines = locateTopLevelArrays(text);
    expect(lines.get('a"b')).toEqual([1, 2]);
    expect(lines.get('c')).toEqual([2, 3]);
  });
});

describe('jsonSyntaxProblem', () => {
  const problemFor = (text: string) => {
    try {
      JSON.parse(text);
    } catch (err) {
      return jsonSyntaxProblem(text, 'f.json', err);
    }
    throw new Error('expected a syntax error');
  };

  it('derives line and column from the error position', () => {
    const p = problemFor('{\n  "images": [1,\n  2 3]\n}');
    expect(p).toMatchObject({ file: 'f.json', line: 3, field: 'column 5' });
    expect(p.message).toMatch(/^invalid JSON: /);
  });

  it('points at the end of truncated input', () => {
    expect(problemFor('{\n"images": [\n')).toMatchObject({ line: 3, field: 'column 1' });
  });
});
