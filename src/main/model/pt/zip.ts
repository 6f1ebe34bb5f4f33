/**
 * @file The zip container of a torch checkpoint. torch.save writes an uncompressed zip whose
 * entries sit under one top folder (`archive/` or the file's stem): `data.pkl`, `data/<key>`
 * storages, `version`, sometimes `byteorder`. We read the central directory ourselves and trust
 * none of it: every entry must lie inside the file, stored entries must say the size they have, and
 * deflated ones inflate to exactly their declared size, within a budget set by the file's size (a
 * 256 KiB zip must not become 256 MiB of memory). Stored entries are views of the file, not copies.
 */
import zlib from 'node:zlib';
import { AppError } from '../../../shared/errors';
import { MAX_ZIP_ENTRIES, MAX_ZIP_INFLATE_RATIO, MAX_ZIP_INFLATED_BYTES, MIN_ZIP_INFLATE_BUDGET } from '../limits';

/** The entries of a torch zip, keyed by their path below the top folder (`data.pkl`, `data/0`). */
export interface TorchZip {
  /** The top folder inside the zip, e.g. `archive` or `yolo11n`. */
  prefix: string;
  entries: Map<string, Uint8Array>;
}

const LOCAL_HEADER = 0x04034b50; // "PK\x03\x04"
const CENTRAL_HEADER = 0x02014b50;
const EOCD = 0x06054b50; // end of central directory
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;

/** One central-directory record. */
interface DirEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Opens a torch checkpoint zip held in memory. `label` names the file in error messages. */
export function readTorchZip(bytes: Uint8Array, label: string): TorchZip {
  if (bytes.length < 4 || readU32(bytes, 0) !== LOCAL_HEADER) {
    const legacy = bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] <= 5;
    throw new AppError(
      'FILE_UNREADABLE',
      legacy
        ? `${label} is not a zip: it is torch's legacy (pre-1.6) pickle format, which boxtune does not read; re-save it with a recent torch`
        : `${label} is truncated or not a zip: it does not start with a zip header (is it a PyTorch .pt checkpoint?)`,
    );
  }
  const eocd = findEocd(bytes);
  if (eocd < 0) {
    throw new AppError(
      'FILE_UNREADABLE',
      `${label} is truncated or not a zip: no end-of-archive record in its ${bytes.length} bytes (an interrupted download?)`,
    );
  }
  const damaged = (why: string) => new AppError('FILE_UNREADABLE', `${label} is truncated or damaged: ${why}`);
  const lies = (why: string) => new AppError('FILE_UNREADABLE', `${label}: ${why}`);
  const { dir, dirStart } = readCentralDirectory(bytes, eocd, damaged);
  const pkl = dir.find((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (pkl === undefined) {
    throw new AppError('FILE_UNREADABLE', `${label} is a zip but not a torch checkpoint: it has no data.pkl`);
  }
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const budget = Math.min(MAX_ZIP_INFLATED_BYTES, Math.max(MIN_ZIP_INFLATE_BUDGET, MAX_ZIP_INFLATE_RATIO * bytes.length));
  let inflated = 0;
  const entries = new Map<string, Uint8Array>();
  for (const e of dir) {
    if (!e.name.startsWith(prefix)) continue;
    const data = entryBytes(bytes, e, dirStart, damaged);
    if (e.method === 0) {
      if (e.size !== e.compressedSize) {
        throw lies(`${e.name} is stored uncompressed but declares ${e.size} bytes for its ${e.compressedSize}`);
      }
      entries.set(e.name.slice(prefix.length), data);
      continue;
    }
    // Checked before inflating anything, so a bomb costs nothing.
    inflated += e.size;
    if (inflated > budget) {
      throw new AppError(
        'FILE_UNREADABLE',
        budget === MAX_ZIP_INFLATED_BYTES
          ? `${label}: ${e.name} would inflate to ${e.size} bytes, past ${MAX_ZIP_INFLATED_BYTES} for all entries together`
          : `${label}: ${e.name} would inflate to ${e.size} bytes from ${bytes.length} (more than ${MAX_ZIP_INFLATE_RATIO}x): a zip bomb? (torch.save stores entries uncompressed)`,
      );
    }
    entries.set(e.name.slice(prefix.length), inflateEntry(data, e, lies));
  }
  return { prefix: prefix.replace(/\/$/, ''), entries };
}

/** The central directory's records, each checked to lie inside the file. */
function readCentralDirectory(b: Uint8Array, eocd: number, damaged: (why: string) => AppError): { dir: DirEntry[]; dirStart: number } {
  let count = readU16(b, eocd + 10);
  let size = readU32(b, eocd + 12);
  let start = readU32(b, eocd + 16);
  if (count === 0xffff || size === 0xffffffff || start === 0xffffffff) {
    // zip64: the real values are in the zip64 end record, found through its locator.
    const loc = eocd - 20;
    if (loc < 0 || readU32(b, loc) !== ZIP64_LOCATOR) throw damaged('its zip64 end record is missing');
    const at = readU64(b, loc + 8);
    if (at + 56 > loc || readU32(b, at) !== ZIP64_EOCD) throw damaged('its zip64 end record lies outside the file');
    count = readU64(b, at + 32);
    size = readU64(b, at + 40);
    start = readU64(b, at + 48);
  }
  if (count > MAX_ZIP_ENTRIES) throw damaged(`it lists ${count} entries; a torch checkpoint has at most ${MAX_ZIP_ENTRIES}`);
  if (start + size > eocd) throw damaged('its central directory lies outside the file');
  const dir: DirEntry[] = [];
  const utf8 = new TextDecoder('utf-8');
  let p = start;
  for (let i = 0; i < count; i++) {
    if (p + 46 > start + size || readU32(b, p) !== CENTRAL_HEADER) throw damaged(`central directory record ${i} is not where the directory says`);
    const nameLen = readU16(b, p + 28);
    const extraLen = readU16(b, p + 30);
    const commentLen = readU16(b, p + 32);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > start + size) throw damaged(`central directory record ${i} runs past the directory`);
    const e: DirEntry = {
      name: utf8.decode(b.subarray(p + 46, p + 46 + nameLen)),
      flags: readU16(b, p + 8),
      method: readU16(b, p + 10),
      compressedSize: readU32(b, p + 20),
      size: readU32(b, p + 24),
      localOffset: readU32(b, p + 42),
    };
    applyZip64Extra(e, b.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
    dir.push(e);
    p = next;
  }
  return { dir, dirStart: start };
}

/** Sizes and offsets too big for 32 bits live in the zip64 extra field (id 1), in this order. */
function applyZip64Extra(e: DirEntry, extra: Uint8Array): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = readU16(extra, q);
    const len = readU16(extra, q + 2);
    if (id === 1) {
      let r = q + 4;
      const end = Math.min(q + 4 + len, extra.length);
      const take = (): number | null => (r + 8 <= end ? ((r += 8), readU64(extra, r - 8)) : null);
      if (e.size === 0xffffffff) e.size = take() ?? e.size;
      if (e.compressedSize === 0xffffffff) e.compressedSize = take() ?? e.compressedSize;
      if (e.localOffset === 0xffffffff) e.localOffset = take() ?? e.localOffset;
      return;
    }
    q += 4 + len;
  }
}

/** The entry's bytes as the file holds them (a view), after checking its local header. */
function entryBytes(b: Uint8Array, e: DirEntry, dirStart: number, damaged: (why: string) => AppError): Uint8Array {
  if (e.flags & 1) throw damaged(`${e.name} is encrypted`);
  if (e.method !== 0 && e.method !== 8) throw damaged(`${e.name} uses compression method ${e.method}; torch checkpoints are stored or deflated`);
  const at = e.localOffset;
  if (at + 30 > dirStart || readU32(b, at) !== LOCAL_HEADER) throw damaged(`${e.name} lies outside the file (its header is not at byte ${at})`);
  const start = at + 30 + readU16(b, at + 26) + readU16(b, at + 28);
  if (start + e.compressedSize > dirStart) throw damaged(`${e.name} lies outside the file (${e.compressedSize} bytes from byte ${start})`);
  return b.subarray(start, start + e.compressedSize);
}

/** Inflates a deflated entry to exactly its declared size, stopping as soon as it would pass it. */
function inflateEntry(data: Uint8Array, e: DirEntry, lies: (why: string) => AppError): Uint8Array {
  let out: Buffer;
  try {
    out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw lies(`${e.name} inflates to more than its declared ${e.size} bytes`);
    throw lies(`${e.name} cannot be inflated (${(err as Error).message}): truncated or damaged`);
  }
  if (out.length !== e.size) {
    throw lies(out.length > e.size ? `${e.name} inflates to more than its declared ${e.size} bytes` : `${e.name} inflates to ${out.length} bytes, not its declared ${e.size}`);
  }
  return out;
}

function readU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** A 64-bit little-endian count or offset; past 2^53 it is nonsense anyway, and the bounds checks catch it. */
function readU64(b: Uint8Array, at: number): number {
  return readU32(b, at) + readU32(b, at + 4) * 2 ** 32;
}

/** Offset of the end-of-central-directory record (searched from the end, past any comment), or -1. */
function findEocd(b: Uint8Array): number {
  const stop = Math.max(0, b.length - 22 - 0xffff);
  for (let i = b.length - 22; i >= stop; i--) {
    if (readU32(b, i) === EOCD) return i;
  }
  return -1;
}
