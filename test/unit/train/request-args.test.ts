/**
 * The Api's training options and the trainer's arguments cannot drift: every option the Api's
 * train.start schema accepts sets a train argument, and a request with all of them set parses
 * into the same values.
 */
import { describe, expect, it } from 'vitest';
import { API_SCHEMAS } from '../../../src/main/app/schemas';
import { parseTrainArgs, trainArgsSchema } from '../../../src/main/train/args';
import { TRAIN_OPTION_ARGS, trainOptionArgs, type TrainOption } from '../../../src/main/train/request-args';
import type { TrainRequest } from '../../../src/shared/types';

const apiOptions = Object.keys(API_SCHEMAS['train.start'].shape).filter((k) => k !== 'model' && k !== 'resumeRunId');

/** Every option set, to a value other than its default, as the Api accepts them. */
const everyOption: Required<Pick<TrainRequest, TrainOption>> = {
  epochs: 7, imgsz: 320, batch: 8, freeze: 3, optimizer: 'SGD', lr0: 0.02, patience: 5, cosLr: true, closeMosaic: 2, seed: 42, device: 'cpu',
};

describe('train options -> train arguments', () => {
  it('maps every option the Api accepts to an argument the trainer takes', () => {
    expect(apiOptions.length).toBeGreaterThan(0);
    expect(Object.keys(TRAIN_OPTION_ARGS).sort()).toEqual([...apiOptions].sort());
    const argNames = Object.keys(trainArgsSchema.shape);
    for (const option of apiOptions) expect(argNames, option).toContain(TRAIN_OPTION_ARGS[option as TrainOption]);
    expect(Object.keys(everyOption).sort()).toEqual([...apiOptions].sort());
  });

  it('passes each value through to the parsed arguments', () => {
    expect(API_SCHEMAS['train.start'].parse({ model: '/models/m.pt', ...everyOption })).toMatchObject(everyOption);
    const args = parseTrainArgs({ model: 'm.pt', data: 'data.yaml', ...trainOptionArgs(everyOption) });
    for (const [option, value] of Object.entries(everyOption)) expect(args[TRAIN_OPTION_ARGS[option as TrainOption]], option).toBe(value);
    expect(trainOptionArgs(everyOption)).toEqual({
      epochs: 7, imgsz: 320, batch: 8, freeze: 3, optimizer: 'SGD', lr0: 0.02, patience: 5, cos_lr: true, close_mosaic: 2, seed: 42, device: 'cpu',
    });
  });

  it('leaves options the request leaves out to the defaults', () => {
    expect(trainOptionArgs({ cosLr: false, epochs: undefined })).toEqual({ cos_lr: false });
    expect(trainOptionArgs({})).toEqual({});
  });
});
