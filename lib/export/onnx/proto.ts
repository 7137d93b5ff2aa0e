// The official ONNX schema (onnx.proto, compiled for protobufjs by the onnx-proto package). Every
// message we write goes through its generated encoder, so field numbers and wire types are the
// schema's, not ours.
import onnxProto from 'onnx-proto';

/** The `onnx` namespace of generated message classes and enums. */
export const onnx = onnxProto.onnx;
/** Message and enum types of the ONNX schema. */
export type { onnx as OnnxTypes } from 'onnx-proto';

/** TensorProto.DataType values we write. */
export const DataType = { FLOAT: 1, FLOAT16: 10 } as const;
