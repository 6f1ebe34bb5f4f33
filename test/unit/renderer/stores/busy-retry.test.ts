import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { BUSY_GIVE_UP_MS, retryWhileBusy } from '../../../../src/renderer/src/stores/busy-retry';

/** A clock that only moves when the retry loop sleeps. */
function fakeTime() {
  let t = 0;
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms: number) => void (slept.push(ms), (t += ms)) };
}

describe('retryWhileBusy', () => {
  it('sends the edit again while the project is BUSY, saying so, until it lands', async () => {
    const time = fakeTime();
    const answers: (string | Error)[] = [new AppError('BUSY', 'busy'), new AppError('BUSY', 'busy'), new AppError('BUSY', 'busy'), 'saved'];
    let calls = 0;
    let waits = 0;
    const result = await retryWhileBusy(
      async () => {
        const a = answers[calls++]!;
        if (a instanceof Error) throw a;
        return a;
      },
      () => waits++,
      time,
    );
    expect(result).toBe('saved');
    expect(calls).toBe(4);
    expect(waits).toBe(3);
    expect(time.slept).toEqual([100, 250, 500]);
  });

  it('passes any other error through at once', async () => {
    const time = fakeTime();
    let calls = 0;
    const call = async (): Promise<never> => {
      calls++;
      throw new AppError('NOT_FOUND', 'box 3 is not on image 1');
    };
    await expect(retryWhileBusy(call, () => undefined, time)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toBe(1);
    expect(time.slept).toEqual([]);
  });

  it('gives up with the BUSY error when the project stays busy too long', async () => {
    const time = fakeTime();
    const call = async (): Promise<never> => {
      throw new AppError('BUSY', 'still busy');
    };
    await expect(retryWhileBusy(call, () => undefined, time)).rejects.toMatchObject({ code: 'BUSY' });
    expect(time.now()).toBeGreaterThanOrEqual(BUSY_GIVE_UP_MS);
    expect(Math.max(...time.slept)).toBe(1000);
  });
});
