// Worker thread for the busy tests: takes the project's write lock the way an import's write
// phase does (BEGIN IMMEDIATE, a write in flight, the thread busy), holds it for `holdMs`, then
// commits. Plain JavaScript so it needs no loader in a worker.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, holdMs } = workerData;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 15000');
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT INTO meta (key, value) VALUES ('lock-test', '1') ON CONFLICT (key) DO UPDATE SET value = value + 1").run();
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
db.exec('COMMIT');
db.close();
parentPort.postMessage('released');
