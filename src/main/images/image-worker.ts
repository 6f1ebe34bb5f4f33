/**
 * @file Image worker thread: makes one derived file at a time (image-render.ts) for the pool in
 * image-pool.ts, so decoding a user's image never runs on the thread that serves the UI.
 */
import { parentPort } from 'node:worker_threads';
import { renderImage } from './image-render';
import type { FromImageWorker, ToImageWorker } from './image-pool';

const port = parentPort!;
port.on('message', (msg: ToImageWorker) => {
  renderImage(msg.task, msg.seconds).then(
    () => port.postMessage({ id: msg.id, ok: true } satisfies FromImageWorker),
    (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      const reply: FromImageWorker = { id: msg.id, ok: false, message: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}) };
      port.postMessage(reply);
    },
  );
});
