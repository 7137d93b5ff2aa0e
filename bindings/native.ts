// The typed interface of the native addon (native/addon/*_binding.cc). Tensors cross the boundary
// as integer handles; every entry point takes the device it runs on first, so the CUDA backend
// slots in behind the same calls. Each family's functions sit next to each other, named like the
// kernel files (native/cpu/<family>.cc).

export type Handle = number;
export type DeviceName = 'cpu' | 'cuda';
export type DTypeName = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** Tensor lifetime, data movement, counters and settings (tensor_binding.cc). */
export interface CoreBindings {
  abiVersion: number;
  create(device: DeviceName, dtype: DTypeName, shape: readonly number[], data?: FloatArray | null): Handle;
  full(device: DeviceName, dtype: DTypeName, shape: readonly number[], value: number): Handle;
  randUniform(device: DeviceName, dtype: DTypeName, shape: readonly number[], seed: number, offset: number, low: number, high: number): Handle;
  randNormal(device: DeviceName, dtype: DTypeName, shape: readonly number[], seed: number, offset: number, mean: number, std: number): Handle;
  read(h: Handle): FloatArray;
  dispose(h: Handle): boolean;
  view(h: Handle, shape: readonly number[]): Handle;
  copy(h: Handle, dtype: DTypeName): Handle;
  toDevice(h: Handle, device: DeviceName): Handle;
  info(h: Handle): { shape: number[]; dtype: DTypeName; device: DeviceName };
  memory(): { tensors: number; storages: number; bytes: number; cudaBytes: number };
  numThreads(): number;
  setNumThreads(n: number): void;
  simd(): 'scalar' | 'avx2' | 'avx512';
  setSimd(level: 'scalar' | 'avx2' | 'avx512'): string;
  setPoison(on: boolean): void;
}

export type UnaryOpName =
  | 'relu' | 'leakyRelu' | 'selu' | 'sigmoid' | 'tanh' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'clamp' | 'affine';

/** Elementwise unary ops (unary_binding.cc, cpu/unary.cc, common/unary_math.h). */
export interface UnaryBindings {
  unaryForward(device: DeviceName, op: UnaryOpName, x: Handle, p0: number, p1: number): Handle;
  unaryBackward(device: DeviceName, op: UnaryOpName, x: Handle | null, y: Handle | null, gy: Handle, p0: number, p1: number): Handle;
}

/** In-place accumulation (accumulate_binding.cc, cpu/accumulate.cc). */
export interface AccumulateBindings {
  /** y += alpha * x (same shape, dtype, device). */
  axpyInPlace(device: DeviceName, y: Handle, x: Handle, alpha: number): void;
}

export interface NativeAddon extends CoreBindings, UnaryBindings, AccumulateBindings {}
