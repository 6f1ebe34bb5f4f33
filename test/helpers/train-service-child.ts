/**
 * Child process for the interrupted-run tests: a BoxtuneService that opens a project and starts
 * a training run through the Api, printing every `train` event as a JSON line, so the parent can
 * SIGKILL the whole process (service, job and worker) at a known point.
 * argv: dataDir projectDir model device epochs
 */
import type { ApiEventMessage } from '../../src/shared/api';
import { BoxtuneService } from '../../src/main/app/service';

const [dataDir, project, model, device, epochs] = process.argv.slice(2) as [string, string, string, 'wasm' | 'cpu', string];
const service = new BoxtuneService({ shell: 'browser', dataDir });
await service['project.open']({ dir: project });
service.events.on('event', (m: ApiEventMessage) => {
  if (m.event === 'train') process.stdout.write(`${JSON.stringify(m.data)}\n`);
});
const { runId } = await service['train.start']({ model, epochs: Number(epochs), imgsz: 64, batch: 4, device });
process.stdout.write(`${JSON.stringify({ type: 'started', runId })}\n`);
