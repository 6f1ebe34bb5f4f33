/**
 * @file The model zoo: Ultralytics' official detection weights, downloaded into the cache folder
 * with progress and verification, and inspection of model files the user picks.
 */
export { plausibleBytes, ULTRALYTICS_ASSETS_RELEASE, ZOO, type ZooEntry, type ZooFamily } from './catalog';
export { downloadFile, sha256File, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download';
export { checkWeightsFit, inspectModelFile } from './inspect';
export { INSPECT_HEAP_LIMIT_MB, INSPECT_TIME_LIMIT_MS, inspectModelFileInWorker, type InspectLimits } from './inspect-in-worker';
export { ModelZoo, type ZooDownloadOptions, type ZooDownloadResult } from './zoo';
export { resolveModelArg, type ResolveModelOptions } from './resolve-model';
