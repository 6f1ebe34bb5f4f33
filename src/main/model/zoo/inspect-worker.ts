/**
 * @file Worker-thread entry that inspects model files (started by inspect-in-worker.ts), one
 * request at a time, so a file that makes its reader slow or hungry costs this thread, which can be
 * ended, and never the one that serves the UI.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorInfo } from '../../../shared/errors';
import { inspectModelFile } from './inspect';
import type { InspectReply, InspectRequest } from './inspect-in-worker';

const reply = (msg: InspectReply): void => parentPort!.postMessage(msg);

parentPort!.on('message', ({ id, file }: InspectRequest) => {
  inspectModelFile(file).then(
    (value) => reply({ id, ok: true, value }),
    (err: unknown) => reply({ id, ok: false, error: toErrorInfo(err) }),
  );
});
