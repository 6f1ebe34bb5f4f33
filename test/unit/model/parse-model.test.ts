import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import { describeModel, guessModelScale, makeDivisible, parseModel, pyRound } from '../../../src/main/model/parse-model';
import { tinyYolo11Yaml, tinyYolov8Yaml, yolo11Yaml, yolov8Yaml } from '../../helpers/model-fixtures';

/** Ultralytics' own model summaries ("YOLO11n summary: ... 2,624,080 parameters"). */
const PARAMS = {
  yolo11: { n: 2_624_080, s: 9_458_752, m: 20_114_688, l: 25_372_160, x: 56_966_176 },
  yolov8: { n: 3_157_200, s: 11_166_560, m: 25_902_640, l: 43_691_520, x: 68_229_648 },
};

function expectAppError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code);
    expect((err as AppError).message).toMatch(message);
    return;
  }
  throw new Error('expected an AppError');
}

describe('parse_model', () => {
  it('uses Python rounding and make_divisible', () => {
    expect([pyRound(0.5), pyRound(1.5), pyRound(2.5), pyRound(4.5), pyRound(0.99), pyRound(1.98), pyRound(-0.1) + 0]).toEqual([0, 2, 2, 4, 1, 2, 0]);
    expect([makeDivisible(16), makeDivisible(17), makeDivisible(1024 * 0.25), makeDivisible(768 * 0.75)]).toEqual([16, 24, 256, 576]);
    expect([guessModelScale('yolo11n.yaml'), guessModelScale('/x/yolov8s.yaml'), guessModelScale('yolo11x-custom.yaml'), guessModelScale('my.yaml')]).toEqual([
      'n',
      's',
      'x',
      '',
    ]);
  });

  for (const scale of ['n', 's', 'm', 'l', 'x'] as const) {
    it(`YOLO11${scale} and YOLOv8${scale} have Ultralytics' parameter counts`, () => {
      expect(describeModel(yolo11Yaml(scale)).params).toBe(PARAMS.yolo11[scale]);
      expect(describeModel(yolov8Yaml(scale)).params).toBe(PARAMS.yolov8[scale]);
    });
  }

  it('forces C3k blocks for m/l/x C3k2 layers and builds the YOLO11 head unless legacy', () => {
    const n = parseModel(yolo11Yaml('n'));
    const m = parseModel(yolo11Yaml('m'));
    const c3k = (p: ReturnType<typeof parseModel>) => p.layers.filter((l) => l.module === 'C3k2').map((l) => l.args[3]);
    expect(c3k(n)).toEqual([false, false, true, true, false, false, false, true]);
    expect(c3k(m).every((x) => x === true)).toBe(true);
    expect(n.legacy).toBe(false);
    expect(parseModel(yolov8Yaml('n')).legacy).toBe(true);
    expect(n.stride).toEqual([8, 16, 32]);
    expect(n.layers[23]!.args).toEqual([80, [64, 128, 256]]);
    expect(n.layers[2]!.args).toEqual([32, 64, 1, false, 0.25]); // c1, c2, repeats, c3k, e
    expect(n.layers[12]!.c2).toBe(384); // Concat of 256 (upsampled layer 10) + 128 (layer 6)
    expect(n.layers[12]!.from).toEqual([11, 6]);
  });

  it('takes the scale from yaml.scale, else the yaml_file name, else the first scale', () => {
    const base = yolo11Yaml('n');
    delete base.scale;
    expect(parseModel({ ...base, yaml_file: 'yolo11s.yaml' }).scale).toBe('s');
    expect(parseModel(base).scale).toBe('n');
    expect(parseModel({ ...base, scale: 'l' }).depth).toBe(1);
  });

  it('names unknown modules with where they are', () => {
    const y = yolo11Yaml('n') as { backbone: unknown[][] };
    y.backbone[3] = [-1, 1, 'Foo', [256, 3, 2]];
    expectAppError(() => parseModel(y), 'INVALID_INPUT', /^unknown module 'Foo' in yaml backbone\[3\]/);
  });

  it('refuses other tasks by their head', () => {
    const y = yolo11Yaml('n') as { head: unknown[][] };
    y.head[12] = [[16, 19, 22], 1, 'Segment', ['nc', 32, 256]];
    expectAppError(() => parseModel(y), 'INVALID_INPUT', /this is a segmentation model \(Segment head in yaml head\[12\]\); boxtune trains detection models only/);
  });

  it('rejects malformed yamls clearly', () => {
    expectAppError(() => parseModel({ nc: 3, backbone: [], head: 5 }), 'INVALID_INPUT', /no 'head' list/);
    expectAppError(() => parseModel({ ...tinyYolov8Yaml(), nc: 0 }), 'INVALID_INPUT', /integer nc/);
    const y = tinyYolov8Yaml() as { head: unknown[][] };
    y.head[1] = [[-1, 99], 1, 'Concat', [1]];
    expectAppError(() => parseModel(y), 'INVALID_INPUT', /must point at earlier layers/);
  });

  it('parses the tiny fixtures', () => {
    const t11 = parseModel(tinyYolo11Yaml());
    expect(t11.stride).toEqual([8, 16, 32]);
    expect(t11.legacy).toBe(false);
    const t8 = parseModel(tinyYolov8Yaml());
    expect(t8.stride).toEqual([8, 16]);
    expect(t8.legacy).toBe(true);
    expect(t8.layers[2]!.args.slice(0, 3)).toEqual([16, 16, 1]); // repeats 3 * 0.33 -> 1
  });
});
