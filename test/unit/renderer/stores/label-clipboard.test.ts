import { describe, expect, it } from 'vitest';
import type { BoxRecord } from '../../../../src/shared/types';
import { copyBoxes, duplicateBoxes, PASTE_OFFSET, pasteBoxes } from '../../../../src/renderer/src/stores/label-clipboard';

const box = (id: number, x: number, y: number, w = 20, h = 10, classId = 1): BoxRecord => ({
  id, imageId: 1, classId, x, y, w, h, source: 'human', runId: null, score: null,
});

describe('box clipboard', () => {
  const boxes = [box(1, 10, 10), box(2, 50, 40, 30, 30, 2), box(3, 0, 0)];

  it('copies only the selected boxes, without ids or provenance', () => {
    const clip = copyBoxes(boxes, new Set([2, 1]), 7)!;
    expect(clip).toEqual({
      fromImageId: 7,
      pastesOnSource: 0,
      boxes: [
        { classId: 1, x: 10, y: 10, w: 20, h: 10 },
        { classId: 2, x: 50, y: 40, w: 30, h: 30 },
      ],
    });
    expect(copyBoxes(boxes, new Set([99]), 7)).toBeNull();
  });

  it('pastes onto another image in the same place, clipped to it', () => {
    const clip = copyBoxes(boxes, new Set([1, 2]), 7)!;
    const { boxes: pasted, clip: after } = pasteBoxes(clip, { id: 8, width: 60, height: 60 });
    expect(pasted).toEqual([
      { classId: 1, x: 10, y: 10, w: 20, h: 10 },
      { classId: 2, x: 50, y: 40, w: 10, h: 20 },
    ]);
    expect(after).toBe(clip);
    // an image too small for a box drops it
    expect(pasteBoxes(clip, { id: 9, width: 40, height: 40 }).boxes).toEqual([{ classId: 1, x: 10, y: 10, w: 20, h: 10 }]);
  });

  it('offsets each paste back onto the source image a little further', () => {
    let clip = copyBoxes(boxes, new Set([1]), 7)!;
    const first = pasteBoxes(clip, { id: 7, width: 200, height: 200 });
    expect(first.boxes).toEqual([{ classId: 1, x: 10 + PASTE_OFFSET, y: 10 + PASTE_OFFSET, w: 20, h: 10 }]);
    clip = first.clip;
    expect(pasteBoxes(clip, { id: 7, width: 200, height: 200 }).boxes[0]).toMatchObject({ x: 10 + 2 * PASTE_OFFSET });
  });

  it('duplicates with an offset that stays on the image', () => {
    expect(duplicateBoxes([{ classId: 1, x: 10, y: 10, w: 20, h: 10 }], { width: 100, height: 100 })).toEqual([
      { classId: 1, x: 20, y: 20, w: 20, h: 10 },
    ]);
    // at the bottom-right corner the copy goes up-left instead
    expect(duplicateBoxes([{ classId: 1, x: 80, y: 90, w: 20, h: 10 }], { width: 100, height: 100 })).toEqual([
      { classId: 1, x: 70, y: 80, w: 20, h: 10 },
    ]);
    expect(duplicateBoxes([], { width: 100, height: 100 })).toEqual([]);
  });
});
