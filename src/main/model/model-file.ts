/**
 * @file Reads a model file the user picked into memory, after checking its size by stat: a .pt,
 * .safetensors or .onnx larger than any detection model we support is refused before a byte of it
 * is read.
 */
import fs from 'node:fs';
import { AppError } from '../../shared/errors';
import { MAX_MODEL_FILE_BYTES } from './limits';

/** Size in GiB / MiB for messages. */
function size(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Stats a model file: FILE_NOT_FOUND / FILE_UNREADABLE, and a clear error when it is too big. */
export function checkModelFileSize(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  if (!st.isFile()) throw new AppError('FILE_UNREADABLE', `cannot read ${file}: not a file`);
  if (st.size > MAX_MODEL_FILE_BYTES) {
    throw new AppError('FILE_UNREADABLE', `${file} is ${size(st.size)}; boxtune reads model files up to ${size(MAX_MODEL_FILE_BYTES)}`, { bytes: st.size, limit: MAX_MODEL_FILE_BYTES });
  }
  return st.size;
}

/** The whole file, once its size is known to be sane. */
export function readModelFileBytes(file: string): Buffer {
  checkModelFileSize(file);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
}
