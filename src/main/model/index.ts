/**
 * @file The model core that training, prediction and export share: Ultralytics .pt reading,
 * YOLOv8/YOLO11 in tfjs, our safetensors checkpoints, backend choice.
 */
export { initBackend, type BackendChoice, type BackendName } from './backend';
export {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  loadModelFile,
  modelFromCheckpoint,
  saveCheckpoint,
  type CheckpointInfo,
  type CheckpointMeta,
} from './checkpoint';
export { registerGradients } from './gradients';
export { measureForwardLatency, type LatencyResult } from './latency';
export { makeAnchors, dist2bbox, classBiasPrior } from './modules/head';
export { describeModel, parseModel, type LayerSpec, type ModelSummary, type ModelYaml, type ParsedModel } from './parse-model';
export { readPt, readPtFile, type PtCheckpoint, type TensorView } from './pt/pt-reader';
export { YoloModel, type ForwardOptions, type NamedParam } from './yolo';
