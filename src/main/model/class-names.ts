/**
 * @file Class names as model files store them: Ultralytics' `names` dict `{0: 'person', ...}` (a
 * pickled dict in a .pt, a Python literal in ONNX metadata) or a list. The indices come from the
 * file, so each is checked before it becomes an array index: `{4294967294: 'x'}` would otherwise
 * ask for a 4-billion-entry array and take the process down.
 */
import { AppError } from '../../shared/errors';
import { MAX_CLASSES } from './limits';

/**
 * Names by class index from a dict (Map) or a list; anything else gives []. Missing indices of a
 * sparse dict are named by their number, as Ultralytics does. `where` names the file and field in
 * errors, e.g. `yolo.pt: model.names`.
 *
 * @example classNamesFrom(new Map([[0, 'cat'], [2, 'dog']]), 'x.pt: model.names') // => ['cat', '1', 'dog']
 */
export function classNamesFrom(raw: unknown, where: string): string[] {
  const count = raw instanceof Map ? raw.size : Array.isArray(raw) ? raw.length : 0;
  if (count > MAX_CLASSES) throw new AppError('FILE_UNREADABLE', `${where} has ${count} classes; boxtune reads at most ${MAX_CLASSES}`);
  if (Array.isArray(raw)) return Array.from(raw, (v) => String(v));
  if (!(raw instanceof Map)) return [];
  const names: string[] = [];
  for (const [k, v] of raw) names[classIndex(k, where)] = String(v);
  for (let i = 0; i < names.length; i++) names[i] ??= String(i);
  return names;
}

/** An index from the file: an integer (or a string of digits) below MAX_CLASSES. */
function classIndex(k: unknown, where: string): number {
  const n = typeof k === 'number' ? k : typeof k === 'bigint' ? Number(k) : typeof k === 'string' && /^\d{1,6}$/.test(k) ? Number(k) : Number.NaN;
  if (Number.isInteger(n) && n >= 0 && n < MAX_CLASSES) return n;
  const shown = typeof k === 'string' ? `'${k.length > 40 ? `${k.slice(0, 40)}...` : k}'` : typeof k === 'number' || typeof k === 'bigint' ? String(k) : `of type ${typeof k}`;
  throw new AppError('FILE_UNREADABLE', `${where}: class index ${shown} is not a whole number from 0 to ${MAX_CLASSES - 1}`);
}
