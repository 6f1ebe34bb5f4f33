/**
 * @file The detection loss (Ultralytics v8DetectionLoss) and its parts: see detection-loss.ts.
 */
export { V8DetectionLoss, DEFAULT_LOSS_GAINS, bbox2dist, bceWithLogits } from './detection-loss';
export type { ComputeOptions, DetectionLossOptions, DetectionLossResult, DetectionTargets, LossDetails, LossGains, PaddedTargets } from './detection-loss';
export { TaskAlignedAssigner, denseAccessors, denseTargetScores } from './assigner';
export type { AssignerInput, AssignerOptions, AssignerResult } from './assigner';
export { bboxCiou, ciou, IOU_EPS } from './iou';
export { torchTopkIndices } from './torch-topk';
