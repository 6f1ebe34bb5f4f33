/**
 * @file ONNX export of a YoloModel with Ultralytics' interface, and the protobuf schema it is written with.
 */
export { BOXTUNE_VERSION, buildOnnx, exportOnnx, ONNX_IR_VERSION, ONNX_OPSET, type OnnxExportOptions, type OnnxExportResult } from './export';
export { exportMetadata, pyNamesDict, pyStr, readBoxtuneInfo, type BoxtuneOnnxInfo } from './metadata';
export { decodeModel, encodeModel, type ModelProto } from './onnx-proto';
