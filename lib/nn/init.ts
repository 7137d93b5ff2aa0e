// PyTorch's default initialisation of Conv2d and Linear (their reset_parameters), drawn from our
// counter-based Generator so a seed gives the same weights on every machine and thread count:
//   weight: kaiming_uniform_(a = √5)  ->  U(-b, b), b = √3 · gain / √fan_in, gain = √(2 / (1 + a²))
//           (which is 1/√fan_in up to rounding)
//   bias:   U(-1/√fan_in, 1/√fan_in)
// fan_in = in_channels · kh · kw for a conv weight (out, in, kh, kw), in_features for Linear.
import { rand } from '../ops/creation.js';
import { getDefaultGenerator, type Generator } from '../random.js';
import type { DType, Tensor } from '../tensor.js';

/** Options of parameter initialisation: seed or generator, dtype, device. */
export interface InitOptions {
  /** The generator to draw from (default: the global one, like torch's default generator). */
  generator?: Generator;
  dtype?: DType;
}

/** fan_in of a weight of shape (out, in, ...kernel). */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) throw new RangeError(`fanIn: a weight needs at least 2 dimensions, got [${shape.join(', ')}]`);
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The bound of kaiming_uniform_(a, mode='fan_in', nonlinearity='leaky_relu'), as PyTorch computes it. */
export function kaimingUniformBound(fan: number, a = Math.sqrt(5)): number {
  const gain = Math.sqrt(2.0 / (1 + a * a));
  const std = gain / Math.sqrt(fan);
  return Math.sqrt(3.0) * std;
}

/** U(low, high) of the given shape from the generator. */
export function uniform(shape: readonly number[], low: number, high: number, o: InitOptions = {}): Tensor {
  return rand(shape, { generator: o.generator ?? getDefaultGenerator(), dtype: o.dtype ?? 'float32', low, high });
}

/** A weight initialised like PyTorch's Conv2d / Linear default. */
export function defaultWeight(shape: readonly number[], o: InitOptions = {}): Tensor {
  const b = kaimingUniformBound(fanIn(shape));
  return uniform(shape, -b, b, o);
}

/** A bias initialised like PyTorch's Conv2d / Linear default, for a weight of shape `weightShape`. */
export function defaultBias(weightShape: readonly number[], o: InitOptions = {}): Tensor {
  const fan = fanIn(weightShape);
  const b = fan > 0 ? 1 / Math.sqrt(fan) : 0;
  return uniform([weightShape[0]!], -b, b, o);
}
