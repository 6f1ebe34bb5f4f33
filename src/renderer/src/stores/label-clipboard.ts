/**
 * @file The Label view's box clipboard: copy the selected boxes, paste them onto this or another
 * image (same place, clipped to it), duplicate in place with an offset. Pure functions over plain
 * data, kept in memory only (boxes are image coordinates, not something other apps can read).
 */
import type { BoxRecord, NewBox } from '../../../shared/types';
import { clipRect, type Size } from '../../../shared/geometry';

/** Offset (image pixels) of a duplicate, and of each paste back onto the image it was copied from. */
export const PASTE_OFFSET = 10;

export interface ClipBox {
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Clip {
  fromImageId: number;
  boxes: ClipBox[];
  /** Pastes onto the source image so far: each one lands a further offset away. */
  pastesOnSource: number;
}

export interface TargetImage extends Size {
  id: number;
}

/** The boxes with these ids (in their list order), or null when none of them is there. */
export function copyBoxes(boxes: readonly BoxRecord[], ids: ReadonlySet<number>, fromImageId: number): Clip | null {
  const picked = boxes.filter((b) => ids.has(b.id)).map(({ classId, x, y, w, h }) => ({ classId, x, y, w, h }));
  return picked.length ? { fromImageId, boxes: picked, pastesOnSource: 0 } : null;
}

/**
 * The boxes to create for a paste, and the clip to keep afterwards. On another image the boxes
 * keep their coordinates (objects rarely move far between frames); back on the source image each
 * paste is offset so it does not hide under the original. Boxes are clipped to the target; ones
 * left entirely outside it are dropped.
 */
export function pasteBoxes(clip: Clip, target: TargetImage): { boxes: NewBox[]; clip: Clip } {
  const onSource = target.id === clip.fromImageId;
  const k = onSource ? clip.pastesOnSource + 1 : 0;
  const boxes = placeAll(clip.boxes, k * PASTE_OFFSET, k * PASTE_OFFSET, target);
  return { boxes, clip: onSource ? { ...clip, pastesOnSource: k } : clip };
}

/**
 * Copies of the given boxes on the same image, offset down-right by PASTE_OFFSET, or up-left where
 * down-right would push the group off the image.
 */
export function duplicateBoxes(boxes: readonly ClipBox[], image: Size): NewBox[] {
  if (boxes.length === 0) return [];
  const right = Math.max(...boxes.map((b) => b.x + b.w));
  const bottom = Math.max(...boxes.map((b) => b.y + b.h));
  const dx = right + PASTE_OFFSET <= image.width ? PASTE_OFFSET : -PASTE_OFFSET;
  const dy = bottom + PASTE_OFFSET <= image.height ? PASTE_OFFSET : -PASTE_OFFSET;
  return placeAll(boxes, dx, dy, image);
}

function placeAll(boxes: readonly ClipBox[], dx: number, dy: number, image: Size): NewBox[] {
  const out: NewBox[] = [];
  for (const b of boxes) {
    const r = clipRect({ x: b.x + dx, y: b.y + dy, w: b.w, h: b.h }, image);
    if (r) out.push({ classId: b.classId, ...r });
  }
  return out;
}
