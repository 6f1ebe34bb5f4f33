/**
 * Child process for the predict kill test: predicts one split of a project with a run's weights
 * (their ONNX export already beside them) and prints every progress event as a JSON line, so the
 * parent can SIGKILL it part way. argv: projectDir runId weights imgsz split
 */
import type { Split } from '../../src/shared/types';
import { predictSplit } from '../../src/main/infer/predict-split';
import { LabelStore } from '../../src/main/store/label-store';

const [root, runId, weights, imgsz, split] = process.argv.slice(2) as [string, string, string, string, Split];
const store = LabelStore.open(root);
await predictSplit(store, { runId: Number(runId), weights, imgsz: Number(imgsz), split, conf: 0 }, {
  onProgress: (phase, done, total) => process.stdout.write(`${JSON.stringify({ phase, done, total })}\n`),
});
process.stdout.write(`${JSON.stringify({ phase: 'finished' })}\n`);
store.close();
