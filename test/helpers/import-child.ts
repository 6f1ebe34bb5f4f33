/**
 * Child process for the kill test: imports a dataset into a project and prints every progress
 * event as a JSON line, so the parent can SIGKILL it at a known point of the write transaction.
 */
import { importDataset } from '../../src/main/dataset/import';
import { LabelStore } from '../../src/main/store/label-store';

const [root, yaml] = process.argv.slice(2) as [string, string];
const store = LabelStore.open(root);
importDataset(store, { format: 'yolo', source: yaml }, {
  onProgress: (phase, done, total) => process.stdout.write(`${JSON.stringify({ phase, done, total })}\n`),
});
process.stdout.write(`${JSON.stringify({ phase: 'finished' })}\n`);
store.close();
