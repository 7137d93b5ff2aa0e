// Seeded random numbers. A Generator is (seed, offset): element i of a draw uses counter
// offset + i in the native counter-based generator, then offset advances by the draw's size.
// So results are identical on every machine and thread count, and the state is two integers.

/** A generator's state: seed and offset (how many numbers it has drawn). */
export interface GeneratorState {
  seed: number;
  offset: number;
}

/** A seeded, counter-based random generator: the same numbers on every machine and thread count. */
export class Generator {
  seed: number;
  offset: number;
  constructor(seed = 0, offset = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Generator: seed must be a non-negative safe integer, got ${seed}`);
    this.seed = seed;
    this.offset = offset;
  }
  /** Reserve `n` counters and return the first. */
  take(n: number): number {
    const o = this.offset;
    this.offset += n;
    return o;
  }
  /** A uniform float in [0, 1) drawn in JS with the same stream (for shuffles, crops, flips). */
  next(): number {
    return uniform01(this.seed, this.take(1));
  }
  /** An integer in [0, n). */
  nextInt(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
  /** The state, to restore later. */
  getState(): GeneratorState {
    return { seed: this.seed, offset: this.offset };
  }
  /** Restore a state from {@link Generator.getState}. */
  setState(s: GeneratorState): void {
    this.seed = s.seed;
    this.offset = s.offset;
  }
  /** An independent generator derived from this one's seed and a stream id. */
  fork(stream: number): Generator {
    return new Generator(Number(mix64(BigInt(this.seed) * 1000003n + BigInt(stream)) & 0x1fffffffffffffn));
  }
}

const M64 = (1n << 64n) - 1n;
function mix64(z: bigint): bigint {
  z &= M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/** The same function as native/common/random.h uniform01 (bit-identical). */
export function uniform01(seed: number, counter: number): number {
  const z = mix64((mix64(BigInt(seed)) + BigInt(counter) * 0x9e3779b97f4a7c15n) & M64);
  return Number(z >> 11n) / 9007199254740992;
}

let defaultGenerator = new Generator(0);

/** Seed the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator = new Generator(seed);
}

/** The generator random ops use when none is given. */
export function getDefaultGenerator(): Generator {
  return defaultGenerator;
}
