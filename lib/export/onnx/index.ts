// ONNX export of MPF-Net (docs/export-onnx.md).
export { exportOnnx, encodeOnnx, type ExportOnnxOptions, type ExportOnnxResult } from './export.js';
export { INPUT_NAME as ONNX_INPUT_NAME, OUTPUT_NAME as ONNX_OUTPUT_NAME, MIN_OPSET as ONNX_MIN_OPSET, MAX_OPSET as ONNX_MAX_OPSET, DEFAULT_OPSET as ONNX_DEFAULT_OPSET } from './metadata.js';
