// Builds an ONNX graph node by node: unique value names, initializers (float32, or float16 with a
// Cast back to float32 when the weights are stored in half precision), and attributes typed as the
// schema wants them. It knows nothing of MPF-Net; emit-mpfnet.ts walks the model with it.
import { DataType, onnx, type OnnxTypes } from './proto.js';
import { float16Bytes, littleEndianBytes } from './float16.js';

/** An attribute value: an int, a float, a string, or a list of ints. */
export type AttributeValue = number | string | number[] | { float: number };

export interface GraphBuilderOptions {
  /** Store weights as float16 (each followed by a Cast to float32): half the file, fp32 compute. */
  fp16?: boolean;
}

export class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  readonly #used = new Set<string>();
  readonly #fp16: boolean;
  /** Parameters written (elements), for the export summary. */
  parameters = 0;

  constructor(o: GraphBuilderOptions = {}) {
    this.#fp16 = o.fp16 ?? false;
  }

  /** `hint`, or `hint_2`, `hint_3`… when taken: every value and node name in a graph is unique. */
  unique(hint: string): string {
    let name = hint;
    for (let i = 2; this.#used.has(name); i++) name = `${hint}_${i}`;
    this.#used.add(name);
    return name;
  }

  /** Reserve a name the caller chose (graph input and output) so nothing else takes it. */
  reserve(name: string): string {
    if (this.#used.has(name)) throw new RangeError(`GraphBuilder: name ${JSON.stringify(name)} is already used`);
    this.#used.add(name);
    return name;
  }

  /**
   * A learned weight as an initializer named `name` (the state-dict name); returns the float32 value
   * to read. With fp16 the initializer is float16 and the returned value is its Cast to float32.
   */
  weight(name: string, shape: readonly number[], data: Float32Array): string {
    this.parameters += data.length;
    if (!this.#fp16) return this.constant(name, shape, data);
    const stored = this.reserve(name);
    this.initializers.push({ name: stored, dims: [...shape], dataType: DataType.FLOAT16, rawData: float16Bytes(data) });
    return this.node('Cast', [stored], { to: DataType.FLOAT }, `${name}.float`);
  }

  /** A float32 initializer that stays float32 even in an fp16 export (e.g. Clip's bounds). */
  constant(name: string, shape: readonly number[], data: Float32Array): string {
    const n = this.reserve(name);
    this.initializers.push({ name: n, dims: [...shape], dataType: DataType.FLOAT, rawData: littleEndianBytes(data) });
    return n;
  }

  /** Append a node; returns the name of its (single) output, derived from `hint`. */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, hint: string = opType): string {
    const output = this.unique(hint);
    this.nodes.push({
      name: output,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Rename the value `from` to `to` (the graph output), rewriting the node that makes it. */
  renameOutput(from: string, to: string): void {
    const maker = this.nodes.find((n) => n.output?.[0] === from);
    if (!maker) throw new RangeError(`GraphBuilder: no node makes ${JSON.stringify(from)}`);
    this.reserve(to);
    maker.output = [to];
  }
}

const A = onnx.AttributeProto.AttributeType;

function attribute(name: string, v: AttributeValue): OnnxTypes.IAttributeProto {
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`attribute ${name}: ${v} is not an integer (use {float: v})`);
    return { name, type: A.INT, i: v };
  }
  return { name, type: A.FLOAT, f: v.float };
}
