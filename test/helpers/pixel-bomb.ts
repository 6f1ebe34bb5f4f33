/**
 * A pixel bomb: a tiny PNG whose header (IHDR) declares a huge size. Decoders trust the header, so
 * one that does not check it would try to allocate or process width x height pixels.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A real 16x16 grey PNG with its IHDR patched to say `width` x `height` (CRC fixed, so it parses). */
export async function pixelBombPng(width = 100_000, height = 100_000): Promise<Buffer> {
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toBuffer();
  // Signature (8), then the IHDR chunk: length (4), type (4), data (13: width, height, ...), CRC (4).
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('sharp wrote no IHDR first');
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}
