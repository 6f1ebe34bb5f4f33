/**
 * @file A small ONNX graph builder: nodes named the way torch.onnx names them (`/model.2/cv1/conv/Conv`,
 * outputs `<node>_output_<k>`), weights and constants as initializers (fp32 or int64, raw
 * little-endian bytes), typed attributes. The exporter walks the model and calls these; the
 * result is a GraphProto that onnx-proto.ts serialises.
 */
import { AttributeType, DataType, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto';

/** Attribute values by name: numbers are INT unless listed in `floats`, arrays INTS, strings STRING. */
export type Attrs = Record<string, number | number[] | string>;

const utf8 = new TextEncoder();

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly counts = new Map<string, number>();
  /** Cache of small int64 constants by value, so repeated shapes share one initializer. */
  private readonly i64Cache = new Map<string, string>();

  /**
   * Adds one node under `scope` (e.g. `/model.2/cv1/conv`), named `<scope>/<op>` (`_1`, `_2`... when
   * the scope already has one), and returns its output names.
   * `floatAttrs` names the attributes whose numbers are FLOAT rather than INT.
   */
  node(op: string, scope: string, inputs: string[], attrs: Attrs = {}, nOutputs = 1, floatAttrs: string[] = []): string[] {
    const base = `${scope}/${op}`;
    const k = this.counts.get(base) ?? 0;
    this.counts.set(base, k + 1);
    const name = k === 0 ? base : `${base}_${k}`;
    const output = Array.from({ length: nOutputs }, (_, i) => this.unique(`${name}_output_${i}`));
    const attribute: AttributeProto[] = Object.entries(attrs).map(([n, v]) => attr(n, v, floatAttrs.includes(n)));
    this.nodes.push({ name, op_type: op, input: inputs, output, attribute });
    return output;
  }

  /** node() for single-output ops. */
  op(op: string, scope: string, inputs: string[], attrs: Attrs = {}, floatAttrs: string[] = []): string {
    return this.node(op, scope, inputs, attrs, 1, floatAttrs)[0]!;
  }

  /** A float32 initializer (weights, anchors). Returns its name. */
  f32(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    return this.initializer({ name: this.unique(name), dims, data_type: DataType.FLOAT, raw_data: bytes });
  }

  /** A 1-D int64 constant (shapes, split sizes), shared between nodes that use the same values. */
  i64(values: number[], hint = 'const'): string {
    const key = values.join(',');
    const cached = this.i64Cache.get(key);
    if (cached) return cached;
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    const name = this.initializer({ name: this.unique(`${hint}_${this.initializers.length}`), dims: [values.length], data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) });
    this.i64Cache.set(key, name);
    return name;
  }

  /** The graph, with one float32 input and one float32 output of static shape. */
  graph(name: string, input: { name: string; dims: number[] }, output: { name: string; dims: number[] }): GraphProto {
    return {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: [valueInfo(input.name, input.dims)],
      output: [valueInfo(output.name, output.dims)],
    };
  }

  /** Renames the tensor a node produced (e.g. the last one to `output0`). */
  renameOutput(from: string, to: string): void {
    for (const n of this.nodes) {
      n.output = n.output.map((o) => (o === from ? to : o));
      n.input = n.input.map((i) => (i === from ? to : i));
    }
    this.names.add(to);
  }

  private initializer(t: TensorProto): string {
    this.initializers.push(t);
    return t.name;
  }

  private unique(name: string): string {
    let n = name;
    for (let i = 1; this.names.has(n); i++) n = `${name}_${i}`;
    this.names.add(n);
    return n;
  }
}

function attr(name: string, v: number | number[] | string, isFloat: boolean): AttributeProto {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: utf8.encode(v) };
  if (Array.isArray(v)) return isFloat ? { name, type: AttributeType.FLOATS, floats: v } : { name, type: AttributeType.INTS, ints: v };
  return isFloat ? { name, type: AttributeType.FLOAT, f: v } : { name, type: AttributeType.INT, i: v };
}

function valueInfo(name: string, dims: number[]): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}
