// Blur kernels for the degradation model (Real-ESRGAN's bivariate Gaussians): isotropic (σx = σy)
// or anisotropic (σx, σy and a rotation θ). Small (at most a few hundred taps), so plain JS.

/** A Gaussian blur kernel: size, σx, σy and rotation. */
export interface GaussianKernelOptions {
  /** Odd kernel size. */
  size: number;
  sigmaX: number;
  /** Default sigmaX (isotropic). */
  sigmaY?: number;
  /** Rotation of the x axis in radians (default 0). */
  theta?: number;
}

/**
 * A size×size Gaussian, row-major, summing to 1: k(p) ∝ exp(−½ pᵀ Σ⁻¹ p) on the integer grid
 * centred on the middle tap, with Σ = R diag(σx², σy²) Rᵀ and R the rotation by θ.
 */
export function gaussianKernel(o: GaussianKernelOptions): Float64Array {
  const { size, sigmaX } = o;
  const sigmaY = o.sigmaY ?? sigmaX;
  const theta = o.theta ?? 0;
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new RangeError(`gaussianKernel: size must be a positive odd integer, got ${size}`);
  if (!(sigmaX > 0) || !(sigmaY > 0)) throw new RangeError(`gaussianKernel: sigmas must be positive, got ${sigmaX}, ${sigmaY}`);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const vx = sigmaX * sigmaX;
  const vy = sigmaY * sigmaY;
  // Σ⁻¹ = R diag(1/σx², 1/σy²) Rᵀ.
  const a = (c * c) / vx + (s * s) / vy;
  const b = c * s * (1 / vx - 1 / vy);
  const d = (s * s) / vx + (c * c) / vy;
  const r = (size - 1) / 2;
  const k = new Float64Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const y = i - r;
    for (let j = 0; j < size; j++) {
      const x = j - r;
      const v = Math.exp(-0.5 * (a * x * x + 2 * b * x * y + d * y * y));
      k[i * size + j] = v;
      sum += v;
    }
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}
