// The model worker of upscale(): loads MPF-Net once, then turns tile jobs into upscaled tiles,
// so the network runs off the caller's event loop (progress events and AbortSignals work while it
// computes). Native ops here use the process's thread pool, like the main thread's would.
// Cancellation: the caller sets a shared flag; the model's forward polls it after every block
// (afterBlock), so a tile stops within one block and its tensors are freed before the worker exits.
// The forward runs with the tape off, so it frees each activation as soon as nothing needs it.
import { workerData } from 'node:worker_threads';
import { noGrad, tidy } from '../autograd/scope.js';
import { loadModel, MPFNet } from '../models/mpfnet/mpfnet.js';
import { tensor } from '../ops/creation.js';
import { imresize } from '../ops/resize.js';
import { clamp } from '../ops/unary.js';
import { CudaGraph } from '../cuda.js';
import { Generator } from '../random.js';
import { serializeError } from '../workers/errors.js';
import { setInferencePrecision } from './precision.js';
import { CANCEL_SLOT, type FromWorker, type TileJob, type ToWorker, type UpscaleWorkerData } from './worker-protocol.js';

const data = workerData as UpscaleWorkerData;
const flags = new Int32Array(data.signal);
const port = data.port;

class Cancelled extends Error {
  override name = 'AbortError';
}

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

function checkCancel(): void {
  if (Atomics.load(flags, CANCEL_SLOT) !== 0) throw new Cancelled('cancelled');
}

function buildModel(): MPFNet {
  const spec = data.model;
  let model: MPFNet;
  if (spec.kind === 'file') {
    model = loadModel(spec.path, { weights: spec.weights, device: data.device });
  } else {
    model = new MPFNet(spec.config, { generator: new Generator(0) });
    try {
      model.loadStateDict(new Map(spec.tensors.map(([n, shape, d]) => [n, { shape, data: d }])));
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (data.device !== 'cpu') model.to(data.device);
  }
  model.eval();
  for (const p of model.parameters()) p.requiresGrad = false;
  return model;
}

/** BT.601 luma of planar RGB: how a grey image comes back from a colour network. */
function luma(rgb: Float32Array, out: Float32Array, offset: number): void {
  const n = rgb.length / 3;
  for (let i = 0; i < n; i++) out[offset + i] = 0.299 * rgb[i]! + 0.587 * rgb[n + i]! + 0.114 * rgb[2 * n + i]!;
}

// The CUDA graph of the current tile shape (tiles of one image share one), and why graphs are off
// when a recording failed (the passes then run as usual).
let graph: { h: number; w: number; g: CudaGraph } | null = null;
let graphOff: string | null = null;

function graphFor(model: MPFNet, rgb: Float32Array, h: number, w: number): CudaGraph | null {
  if (!data.cudaGraph || data.device !== 'cuda' || graphOff !== null) return null;
  if (graph && graph.h === h && graph.w === w) return graph.g;
  graph?.g.dispose();
  graph = null;
  const example = tensor(rgb, [1, 3, h, w], { device: 'cuda' });
  try {
    graph = { h, w, g: CudaGraph.capture((x) => model.forwardImage(x), example) };
  } catch (e) {
    graphOff = e instanceof Error ? e.message : String(e);
    process.emitWarning(`mpfnet upscale: CUDA graphs off, tiles run op by op: ${graphOff}`);
  } finally {
    example.dispose();
  }
  return graph?.g ?? null;
}

function runModel(model: MPFNet, rgb: Float32Array, h: number, w: number): Float32Array {
  const g = graphFor(model, rgb, h, w);
  if (g) {
    checkCancel();
    return tidy(() => g.run(tensor(rgb, [1, 3, h, w], { device: 'cuda' })).toFloat32Array());
  }
  return noGrad(() =>
    tidy(() => {
      const x = tensor(rgb, [1, 3, h, w], { device: data.device });
      const y = model.forwardImage(x, { afterBlock: checkCancel });
      x.dispose();
      return y.toFloat32Array();
    }),
  );
}

function runTile(model: MPFNet, job: TileJob): Float32Array {
  const s = model.scale;
  const n = s * job.height * s * job.width;
  const colour = job.grey ? 1 : 3;
  const out = new Float32Array((colour + (job.alpha ? 1 : 0)) * n);
  const y = runModel(model, job.rgb, job.height, job.width);
  if (job.grey) luma(y, out, 0);
  else out.set(y);
  if (job.alpha) {
    checkCancel();
    if (job.alphaMode === 'model') {
      const rep = new Float32Array(3 * job.alpha.length);
      for (let c = 0; c < 3; c++) rep.set(job.alpha, c * job.alpha.length);
      luma(runModel(model, rep, job.height, job.width), out, colour * n);
    } else {
      const a = noGrad(() =>
        tidy(() => clamp(imresize(tensor(job.alpha!, [1, 1, job.height, job.width], { device: data.device }), { scale: s }), 0, 1).toFloat32Array()),
      );
      out.set(a, colour * n);
    }
  }
  return out;
}

let model: MPFNet | null = null;
try {
  // Thread-local in the addon: this worker's forward passes only.
  setInferencePrecision(data.precision);
  model = buildModel();
  send({ type: 'ready', scale: model.scale, config: model.config });
} catch (e) {
  send({ type: 'fatal', error: serializeError(e) });
  port.close();
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'close') {
    graph?.g.dispose();
    graph = null;
    model?.dispose();
    model = null;
    send({ type: 'closed' });
    port.close();
    return;
  }
  if (!model) return;
  try {
    checkCancel();
    const out = runTile(model, m);
    send({ type: 'result', id: m.id, data: out }, [out.buffer as ArrayBuffer]);
  } catch (e) {
    if (e instanceof Cancelled) send({ type: 'cancelled', id: m.id });
    else send({ type: 'error', id: m.id, error: serializeError(e) });
  }
});
