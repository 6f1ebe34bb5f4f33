/**
 * A minimal protobuf writer for hand-made ONNX files in tests (the product's reader is
 * src/main/model/onnx/onnx-proto.ts; tests write their bytes independently of it).
 */

/** A base-128 varint, for values up to 2^53. */
export function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** Field `field` as a varint (wire type 0). */
export const pbVarint = (field: number, v: number): number[] => [...varint(field * 8), ...varint(v)];
/** Field `field` as length-delimited bytes (wire type 2): a message, a string, raw data. */
export const pbBytes = (field: number, body: ArrayLike<number>): number[] => [...varint(field * 8 + 2), ...varint(body.length), ...Array.from(body)];
/** Field `field` as a UTF-8 string. */
export const pbString = (field: number, s: string): number[] => pbBytes(field, new TextEncoder().encode(s));
