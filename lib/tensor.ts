// Tensor: a JS object that owns one native handle. Data stays native; it crosses into JS only in
// tensor() and toFloat32Array(). Disposal is explicit (dispose(), tidy()); a FinalizationRegistry
// frees handles that were forgotten, as a safety net, not as the plan.
import { native } from '../bindings/index.js';
import type { DeviceName, DTypeName, Handle } from '../bindings/native.js';
import { trackTensor, untrackTensor } from './autograd/scope.js';
import type { GradNode } from './autograd/tape.js';
import { backward as runBackward } from './autograd/tape.js';

/** Where a tensor lives: 'cpu' or 'cuda'. */
export type Device = DeviceName;
/** A tensor's element type: 'float32' or 'float64'. */
export type DType = DTypeName;

const finalizer = new FinalizationRegistry<Handle>((h) => {
  native.dispose(h);
});

/**
 * A native float32 or float64 buffer with its shape, dtype, device and autograd state (docs/tensor-api.md).
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  /** Whether backward() should compute a gradient for this tensor (leaves) or through it. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** @internal The op that produced this tensor, for the autograd tape; null for leaves. */
  gradFn: GradNode | null = null;
  /** @internal The native handle. */
  readonly handle: Handle;
  #disposed = false;

  /** @internal Wrap a native handle (takes ownership). */
  constructor(handle: Handle, shape?: readonly number[], dtype?: DType, device?: Device) {
    this.handle = handle;
    if (shape && dtype && device) {
      this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
      this.dtype = dtype;
      this.device = device;
    } else {
      const inf = native.info(handle);
      this.shape = Object.freeze(inf.shape);
      this.dtype = inf.dtype;
      this.device = inf.device;
    }
    finalizer.register(this, handle, this);
    trackTensor(this);
  }

  /** Number of elements. */
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** Whether {@link Tensor.dispose} has freed the buffer. */
  get isDisposed(): boolean {
    return this.#disposed;
  }
  /** True for tensors not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Free the native buffer now. Safe to call twice. Its gradient is disposed with it. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    untrackTensor(this);
    native.dispose(this.handle);
    this.gradFn = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** A copy of the data as float32 (converting float64). */
  toFloat32Array(): Float32Array {
    const d = native.read(this.handle);
    return d instanceof Float32Array ? d : Float32Array.from(d);
  }
  /** A copy of the data as float64. */
  toFloat64Array(): Float64Array {
    const d = native.read(this.handle);
    return d instanceof Float64Array ? d : Float64Array.from(d);
  }
  /** The data as a plain array of numbers (flat, row-major). */
  toArray(): number[] {
    return Array.from(native.read(this.handle));
  }
  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new RangeError(`item(): tensor has ${this.numel} elements, shape [${this.shape.join(', ')}]`);
    return native.read(this.handle)[0]!;
  }

  /** Backpropagate from this tensor; accumulates .grad on the leaves that require it. */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  /** A tensor sharing this one's data, cut from the tape. */
  detach(): Tensor {
    return new Tensor(native.view(this.handle, this.shape), this.shape, this.dtype, this.device);
  }

  /**
   * This tensor on `device`: itself when already there, else a copy (a leaf: like PyTorch's
   * .to(), the copy is cut from the tape; move parameters with Module.to instead).
   */
  to(device: Device): Tensor {
    if (device === this.device) return this;
    const t = new Tensor(native.toDevice(this.handle, device));
    t.requiresGrad = this.requiresGrad;
    return t;
  }

  /** A copy converted to `dtype` (a new leaf). */
  astype(dtype: DType): Tensor {
    return new Tensor(native.copy(this.handle, dtype), this.shape, dtype, this.device);
  }

  /** Mark this leaf as requiring a gradient (chainable). */
  requiresGrad_(on = true): this {
    if (!this.isLeaf) throw new TypeError('requiresGrad_: only leaf tensors can change requiresGrad');
    this.requiresGrad = on;
    return this;
  }

  /** A short description: shape, dtype, device. */
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''}${this.#disposed ? ', disposed' : ''})`;
  }
}

/**
 * @internal Wrap a handle returned by an op. `like`: the shape, dtype and device the op's result is
 * known to have (a gradient has its input's), so the native tensor is not asked for them (a
 * native call per tensor, ~1.5 us: ~2 ms of a batch-1 training step).
 */
export function fromHandle(h: Handle, like?: TensorLike): Tensor {
  return like ? new Tensor(h, like.shape, like.dtype, like.device) : new Tensor(h);
}

/** @internal {@link fromHandle} for an op's optional result: null stays null (an input with no gradient). */
export function fromHandleOrNull(h: Handle | null, like?: TensorLike | null): Tensor | null {
  return h === null ? null : fromHandle(h, like ?? undefined);
}

/** @internal What {@link fromHandle} needs to know of a result without asking the native side. */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
}
