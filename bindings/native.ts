// The typed interface of the native addon (native/addon/*_binding.cc). Tensors cross the boundary
// as integer handles; every entry point takes the device it runs on first, so the CUDA backend
// slots in behind the same calls. Each family's functions sit next to each other, named like the
// kernel files (native/cpu/<family>.cc).

export type Handle = number;
/** Where a tensor lives. */
export type DeviceName = 'cpu' | 'cuda';
/** A tensor's element type. */
export type DTypeName = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** Tensor lifetime, data movement, counters and settings (tensor_binding.cc). */
export interface CoreBindings {
  abiVersion: number;
  /** Without data: zeros, or (uninitialized) whatever the memory holds. */
  create(device: DeviceName, dtype: DTypeName, shape: readonly number[], data?: FloatArray | null, uninitialized?: boolean | null): Handle;
  full(device: DeviceName, dtype: DTypeName, shape: readonly number[], value: number): Handle;
  randUniform(device: DeviceName, dtype: DTypeName, shape: readonly number[], seed: number, offset: number, low: number, high: number): Handle;
  randNormal(device: DeviceName, dtype: DTypeName, shape: readonly number[], seed: number, offset: number, mean: number, std: number): Handle;
  read(h: Handle): FloatArray;
  dispose(h: Handle): boolean;
  view(h: Handle, shape: readonly number[]): Handle;
  copy(h: Handle, dtype: DTypeName): Handle;
  toDevice(h: Handle, device: DeviceName): Handle;
  info(h: Handle): { shape: number[]; dtype: DTypeName; device: DeviceName };
  memory(): { tensors: number; storages: number; bytes: number; cudaBytes: number; cachedBytes: number; cudaCachedBytes: number };
  emptyCache(): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  /** Parallel regions started from the calling JS thread run serially on it (data-loader workers). */
  setThreadSerial(on: boolean): void;
  simd(): 'scalar' | 'avx2' | 'avx512' | 'neon';
  setSimd(level: 'scalar' | 'avx2' | 'avx512' | 'neon'): string;
  /**
   * Measured arithmetic peak in GFLOP/s (native/cpu/peak.cc): FMA loops on every pool thread for
   * about `ms` milliseconds each; `bf16` is null without AVX512_BF16. A benchmark tool (blocks).
   */
  peakGflops(ms: number): { fp32: number; bf16: number | null; threads: number; isa: string };
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
  /** y = y · s + x, y and x (N, C, H, W), s (N, C) one scale per plane (CPU). */
  scaleAddInPlace(device: DeviceName, y: Handle, s: Handle, x: Handle): void;
}

/** The interpolation kernels of imresize. */
export type ResizeKernelName = 'cubic' | 'linear' | 'box' | 'lanczos2' | 'lanczos3';

/** MATLAB-compatible resize along one axis (resize_binding.cc, cpu/resize.cc). */
export interface ResizeBindings {
  resizeForward(device: DeviceName, x: Handle, axis: number, outLen: number, scale: number, kernel: ResizeKernelName, antialias: boolean): Handle;
  /** The adjoint of resizeForward from inLen samples to gy.shape[axis] samples. */
  resizeBackward(device: DeviceName, gy: Handle, axis: number, inLen: number, scale: number, kernel: ResizeKernelName, antialias: boolean): Handle;
}

export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div';

/** Elementwise binary ops with numpy broadcasting (binary_binding.cc, cpu/binary.cc, common/binary_math.h). */
export interface BinaryBindings {
  binaryForward(device: DeviceName, op: BinaryOpName, a: Handle, b: Handle): Handle;
  /** The gradients of a and b, each summed to its own shape; null where not asked for. */
  binaryBackward(device: DeviceName, op: BinaryOpName, a: Handle, b: Handle, gy: Handle, needA: boolean, needB: boolean): [Handle | null, Handle | null];
}

/** Reductions (reduce_binding.cc, cpu/reduce.cc). dims null: every dim. */
export interface ReduceBindings {
  reduceForward(device: DeviceName, op: 'sum' | 'mean', x: Handle, dims: readonly number[] | null, keepdim: boolean): Handle;
  reduceBackward(device: DeviceName, op: 'sum' | 'mean', gy: Handle, xShape: readonly number[], dims: readonly number[] | null, keepdim: boolean): Handle;
  /** x summed over the dims where `shape` (broadcastable to x's shape) is 1 or missing. */
  sumToShape(device: DeviceName, x: Handle, shape: readonly number[]): Handle;
  logSumExp(device: DeviceName, x: Handle, dim: number, keepdim: boolean): Handle;
  logSumExpBackward(device: DeviceName, x: Handle, y: Handle, gy: Handle, dim: number, keepdim: boolean): Handle;
}

/** Shape ops (shape_binding.cc, cpu/shape.cc). */
export interface ShapeBindings {
  /** x in a new shape (one entry may be -1); a view of x's storage unless copy. */
  reshape(device: DeviceName, x: Handle, shape: readonly number[], copy: boolean): Handle;
  cat(device: DeviceName, xs: readonly Handle[], dim: number): Handle;
  split(device: DeviceName, x: Handle, sizes: readonly number[], dim: number): Handle[];
  /** Zeros of xShape with gy placed at offset along dim: the gradient of one split piece. */
  splitBackward(device: DeviceName, gy: Handle, xShape: readonly number[], dim: number, offset: number): Handle;
  pixelShuffle(device: DeviceName, x: Handle, r: number): Handle;
  pixelUnshuffle(device: DeviceName, x: Handle, r: number): Handle;
  /** out[:, channelOffset : channelOffset + C] = pixelShuffle(x, r), in place (not differentiable). */
  pixelShuffleInto(device: DeviceName, x: Handle, r: number, out: Handle, channelOffset: number): void;
}

/** How a loss reduces over elements. */
export type Reduction = 'mean' | 'sum';

/** Losses (loss_binding.cc, cpu/loss.cc). */
export interface LossBindings {
  l1Loss(device: DeviceName, pred: Handle, target: Handle, reduction: Reduction): Handle;
  l1LossBackward(device: DeviceName, pred: Handle, target: Handle, gy: Handle, reduction: Reduction, needPred: boolean, needTarget: boolean): [Handle | null, Handle | null];
}

/** Pooling (pool_binding.cc, cpu/pool.cc); kernel, stride, padding as [h, w]. */
export interface PoolBindings {
  avgPool2d(device: DeviceName, x: Handle, kernel: readonly number[], stride: readonly number[], padding: readonly number[]): Handle;
  avgPool2dBackward(device: DeviceName, gy: Handle, xShape: readonly number[], kernel: readonly number[], stride: readonly number[], padding: readonly number[]): Handle;
}

/** The optimiser update (adam_binding.cc, cpu/adam.cc, common/adam_math.h). */
export interface AdamBindings {
  /**
   * One torch.optim.Adam step (decoupled = false: weightDecay as L2 added to the gradient) or
   * AdamW step (decoupled = true), in place on param, expAvg and expAvgSq. step is 1-based.
   */
  adamUpdate(device: DeviceName, param: Handle, grad: Handle, expAvg: Handle, expAvgSq: Handle, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, decoupled: boolean): void;
}

/** The SSIM metric (ssim_binding.cc, cpu/ssim.cc); no backward. */
export interface SsimBindings {
  /** Mean SSIM map per channel of x (C, H, W) against y, float64 on the 0..255 scale -> [C] float64. */
  ssimForward(device: DeviceName, x: Handle, y: Handle): Handle;
}

/** Training-data degradations (degrade_binding.cc, cpu/degrade.cc); noise has no backward. */
export interface DegradeBindings {
  /** Every channel of image n of x (N, C, H, W) correlated with kernel n of (N or 1, kh, kw), kh and kw odd, reflect-101 borders. */
  filter2d(device: DeviceName, x: Handle, kernel: Handle): Handle;
  /** The adjoint of filter2d with respect to x. */
  filter2dBackward(device: DeviceName, gy: Handle, kernel: Handle): Handle;
  /** x + sigma[n]·N(0, 1) per image; element e uses counter offset + e (grey: channel 0's, shared). */
  gaussianNoise(device: DeviceName, x: Handle, sigma: readonly number[], grey: readonly boolean[], seed: number, offset: number, clip: boolean): Handle;
  /** Real-ESRGAN's Poisson noise: x + scale[n]·(Poisson(v·q)/v − q), q = x rounded to 8 bits (Y for grey). */
  poissonNoise(device: DeviceName, x: Handle, scale: readonly number[], grey: readonly boolean[], seed: number, offset: number, clip: boolean): Handle;
}

/** 2-D max pooling, PyTorch's max_pool2d without dilation / ceil_mode (maxpool_binding.cc, cpu/maxpool.cc). */
export interface MaxPoolBindings {
  maxPool2d(device: DeviceName, x: Handle, kernel: readonly [number, number], stride: readonly [number, number], padding: readonly [number, number]): Handle;
  /** gx: gy added at each window's argmax (recomputed from x). */
  maxPool2dBackward(device: DeviceName, x: Handle, gy: Handle, kernel: readonly [number, number], stride: readonly [number, number], padding: readonly [number, number]): Handle;
}

/** conv2d over a channel concatenation of input parts (conv2d_binding.cc, cpu/conv2d*.cc). */
export interface Conv2dBindings {
  /**
   * y = act(conv(concat(xs), w) + b); stride, padding, dilation as [h, w]; activation 'none'
   * (default) or 'selu', fused into the kernels' output (cpu/conv2d.h).
   */
  conv2dForward(
    device: DeviceName, xs: readonly Handle[], w: Handle, b: Handle | null, stride: readonly number[], padding: readonly number[], dilation: readonly number[],
    activation?: ConvActivationName | null,
  ): Handle;
  /**
   * conv2dForward that also returns m (N, out), the mean of each output plane (for the
   * squeeze-excitation that follows; on the CPU summed while the output is still in cache).
   */
  conv2dForwardMeans(
    device: DeviceName, xs: readonly Handle[], w: Handle, b: Handle | null, stride: readonly number[], padding: readonly number[], dilation: readonly number[],
    activation?: ConvActivationName | null,
  ): { y: Handle; m: Handle };
  /**
   * The gradients asked for: one per input part (null for parts not asked for; needInput may be
   * one boolean for all parts or one per part), of the weight, of the bias.
   */
  conv2dBackward(
    device: DeviceName, xs: readonly Handle[], w: Handle, gy: Handle, stride: readonly number[], padding: readonly number[], dilation: readonly number[],
    needInput: boolean | readonly boolean[], needWeight: boolean, needBias: boolean,
  ): { gxs: (Handle | null)[] | null; gw: Handle | null; gb: Handle | null };
  /** The algorithm mode before the call; with `mode`, sets it for every later conv2d (cpu/conv2d.h). */
  /**
   * w (out, in, kh, kw) with its input channels scaled: one entry per input part, a (1, C_j) scale
   * tensor or { channels: C_j } for a part without one (CPU).
   */
  conv2dFoldInputScales(device: DeviceName, w: Handle, scales: readonly (Handle | { channels: number })[]): Handle;
  conv2dAlgo(mode?: ConvAlgorithmName | null): ConvAlgorithmName;
  /**
   * conv(pixelShuffle(conv(x, stageWeight, stageBias), r), tailWeight, tailBias), both 3x3 with
   * padding 1, as one composed 5x5 convolution (CPU; native/cpu/upsample_tail.h).
   */
  upsampleTail(device: DeviceName, x: Handle, stageWeight: Handle, stageBias: Handle | null, r: number, tailWeight: Handle, tailBias: Handle | null): Handle;
  /**
   * The calling thread's inference precision before the call; with `precision`, sets it for this
   * thread's later forward convolutions (precision_binding.cc, cpu/inference_precision.h).
   */
  inferencePrecision(precision?: InferencePrecisionName | null): InferencePrecisionName;
  /** Whether 'bf16' runs bf16 kernels here (AVX512_BF16 and SIMD level avx512); else it runs as 'fp32'. */
  bf16Available(): boolean;
}

/** How much forward convolutions may round for speed (lib/infer/precision.ts, docs/upscaling.md). */
export type InferencePrecisionName = 'strict' | 'fp32' | 'bf16';
/** The activations conv2d can fuse into its output (cpu/conv2d.h, Conv2dActivation). */
export type ConvActivationName = 'none' | 'selu';

/** The CPU convolution algorithms setConvAlgorithm can force (docs/architecture.md). */
export type ConvAlgorithmName = 'auto' | 'gemm' | 'winograd' | 'winograd2' | 'winograd6' | 'winograd8' | 'lattice' | 'direct';

/** Matrix products (matmul_binding.cc, cpu/matmul.cc, cpu/gemm*.cc). */
export interface MatmulBindings {
  /** a (M, K) · b (K, N). */
  matmulForward(device: DeviceName, a: Handle, b: Handle): Handle;
  matmulBackward(device: DeviceName, a: Handle, b: Handle, gc: Handle, needA: boolean, needB: boolean): { ga: Handle | null; gb: Handle | null };
  /** x (..., in) · w^T + b, w (out, in), b (out) or null -> (..., out). */
  linearForward(device: DeviceName, x: Handle, w: Handle, b: Handle | null): Handle;
  linearBackward(device: DeviceName, x: Handle, w: Handle, gy: Handle, needX: boolean, needWeight: boolean, needBias: boolean): { gx: Handle | null; gw: Handle | null; gb: Handle | null };
}

/** Contrastive-regularisation samples (cr_samples_binding.cc, cpu/cr_samples.cc); no backward. */
export interface CrSamplesBindings {
  /**
   * M samples y[m] = clip(D + factor[m]·(x[source[m]] − D) + sigma[m]·N(0, 1)), D = kernels[m] ⊛ x[source[m]]
   * with reflect-101 borders, except D = x within keep[m] pixels of an edge. Element e uses counter offset + e.
   */
  crSamples(device: DeviceName, x: Handle, kernels: Handle, source: readonly number[], keep: readonly number[], factor: readonly number[], sigma: readonly number[], seed: number, offset: number, clip: boolean): Handle;
}

/** The per-pixel normalised similarity of contrastive regularisation (cr_similarity_binding.cc, cpu/cr_similarity.cc). */
export interface CrSimilarityBindings {
  /** s[m] = mean over pixels of Σ_c â[index[m]]·b̂[m], features L2-normalised along channels (norms clamped at eps). */
  crSimilarity(device: DeviceName, a: Handle, b: Handle, index: readonly number[], eps: number): Handle;
  crSimilarityBackward(device: DeviceName, a: Handle, b: Handle, index: readonly number[], eps: number, gs: Handle, needA: boolean, needB: boolean): [Handle | null, Handle | null];
}

/** Fused squeeze-and-excitation (squeeze_excite_binding.cc, cpu/squeeze_excite.cc, cuda/squeeze_excite.cu). */
export interface SqueezeExciteBindings {
  /**
   * y = x · sigmoid(fc2(relu(fc1(m)))) per channel with m (N, C) the mean of x (N, C, H, W) over H, W.
   * Given m (from conv2dForwardMeans), the pooling pass is skipped and the returned m is null.
   */
  squeezeExciteForward(device: DeviceName, x: Handle, w1: Handle, b1: Handle | null, w2: Handle, b2: Handle | null, m?: Handle | null, inPlace?: boolean | null): { y: Handle | null; m: Handle | null };
  /** s (N, C) = sigmoid(fc2(relu(fc1(m)))) from the spatial means m (N, C) alone (CPU). */
  squeezeExciteScales(device: DeviceName, m: Handle, w1: Handle, b1: Handle | null, w2: Handle, b2: Handle | null): Handle;
  /** need: [x, w1, b1, w2, b2] as 0 / 1; a gradient not needed (or of a null bias) is null. */
  squeezeExciteBackward(device: DeviceName, x: Handle, m: Handle, w1: Handle, b1: Handle | null, w2: Handle, b2: Handle | null, gy: Handle, need: readonly number[]): { gx: Handle | null; gw1: Handle | null; gb1: Handle | null; gw2: Handle | null; gb2: Handle | null };
}

/** What cudaAvailable() reports (cuda_binding.cc, cuda_plugin.cc). */
export interface CudaStatusInfo {
  available: boolean;
  /** Why CUDA cannot be used (null when available). */
  reason: string | null;
  /** The plugin file looked for or loaded (mpfnet_cuda.so next to the addon, or $MPFNET_CUDA_PLUGIN). */
  plugin: string;
  device?: string;
  computeCapability?: string;
  /** Device memory in bytes. */
  memory?: number;
  driver?: string;
  runtime?: string;
  /** The cuDNN version the plugin runs with, null when cuDNN is not in use. */
  cudnn?: string | null;
  /** Why cuDNN is not in use (not built in, library not loadable, version mismatch); null when it is. */
  cudnnNote?: string | null;
}

/** Options of the CUDA plugin that can change at run time (see docs/cuda.md). */
export interface CudaOptions {
  /** Convolutions may use TF32 tensor cores (default false, or MPFNET_CUDA_TF32=1). */
  allowTf32: boolean;
  /** 'auto': cuDNN when the plugin has it, else the own kernels; 'own': always the own kernels (MPFNET_CUDA_CONV=own). */
  convEngine: 'auto' | 'own';
  /** Synchronise after every op, so an asynchronous error names its op (MPFNET_CUDA_SYNC=1). */
  syncEach: boolean;
}

/** The CUDA backend's controls (cuda_binding.cc); all but cudaAvailable throw when CUDA is unavailable. */
export interface CudaBindings {
  cudaAvailable(): CudaStatusInfo;
  cudaSynchronize(): void;
  /** The caching allocator: bytes in tensors, bytes in spare blocks, the device's free / total, cudaMalloc calls. */
  cudaMemory(): { allocated: number; cached: number; deviceFree: number; deviceTotal: number; mallocs: number };
  /** Applies the given options; returns those in force and a description of the convolution engine's last use. */
  cudaOptions(changes?: Partial<CudaOptions>): CudaOptions & { engine: string };
  /** Start recording the CUDA work of the following ops into a graph instead of running it. */
  cudaGraphBegin(): void;
  /** Stop recording; the graph's id (throws with the reason when the capture failed). */
  cudaGraphEnd(): number;
  /** Copy src into dst (the graph's input) when given, then replay graph `id`. */
  cudaGraphLaunch(id: number, dst: Handle | null, src: Handle | null): void;
  /** Free graph `id` and its reserved memory. */
  cudaGraphDestroy(id: number): void;
}

export interface NativeAddon extends CoreBindings, UnaryBindings, AccumulateBindings, BinaryBindings, ReduceBindings, ShapeBindings, LossBindings, PoolBindings, AdamBindings, ResizeBindings, SsimBindings, DegradeBindings, MaxPoolBindings, Conv2dBindings, MatmulBindings, CrSamplesBindings, CrSimilarityBindings, SqueezeExciteBindings, CudaBindings {}
