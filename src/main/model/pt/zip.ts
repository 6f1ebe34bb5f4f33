/**
 * @file The zip container of a torch checkpoint. torch.save writes an uncompressed zip whose
 * entries sit under one top folder (`archive/` or the file's stem): `data.pkl`, `data/<key>`
 * storages, `version`, sometimes `byteorder`. We check the container ourselves first so a
 * truncated download or a wrong file gets a message a user can act on, then let fflate read it.
 */
import { unzipSync } from 'fflate';
import { AppError } from '../../../shared/errors';

/** The entries of a torch zip, keyed by their path below the top folder (`data.pkl`, `data/0`). */
export interface TorchZip {
  /** The top folder inside the zip, e.g. `archive` or `yolo11n`. */
  prefix: string;
  entries: Map<string, Uint8Array>;
}

const LOCAL_HEADER = 0x04034b50; // "PK\x03\x04"
const EOCD = 0x06054b50; // end of central directory

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
  if (findEocd(bytes) < 0) {
    throw new AppError(
      'FILE_UNREADABLE',
      `${label} is truncated or not a zip: no end-of-archive record in its ${bytes.length} bytes (an interrupted download?)`,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new AppError('FILE_UNREADABLE', `${label} is truncated or not a zip: ${(err as Error).message}`);
  }
  const pkl = Object.keys(files).find((k) => k === 'data.pkl' || k.endsWith('/data.pkl'));
  if (pkl === undefined) {
    throw new AppError('FILE_UNREADABLE', `${label} is a zip but not a torch checkpoint: it has no data.pkl`);
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const entries = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(files)) {
    if (name.startsWith(prefix)) entries.set(name.slice(prefix.length), data);
  }
  return { prefix: prefix.replace(/\/$/, ''), entries };
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Offset of the end-of-central-directory record (searched from the end, past any comment), or -1. */
function findEocd(b: Uint8Array): number {
  const stop = Math.max(0, b.length - 22 - 0xffff);
  for (let i = b.length - 22; i >= stop; i--) {
    if (readU32(b, i) === EOCD) return i;
  }
  return -1;
}
