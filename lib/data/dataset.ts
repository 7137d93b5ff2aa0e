// The dataset interface training reads, and the deterministic batcher over it.
//
// A Dataset is indexable: get(i, rng) returns one (LR, HR) pair as planar float32 images, drawing
// any randomness (crop position, flips, degradation parameters) from `rng` only. The batcher gives
// sample k of the run the generator fork(2k + 1) of the data seed, and epoch e the permutation drawn
// from fork(2e): so the whole data state of a run is one number, the samples consumed, and a
// resumed run sees exactly the batches an uninterrupted one would.
import { noGrad, tidy } from '../autograd/scope.js';
import { tensor } from '../ops/creation.js';
import { imresize } from '../ops/resize.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { boxDownsample, crop, orient, type PlanarImage } from './planar.js';

export type { PlanarImage } from './planar.js';

/** One training or validation pair. The batcher owns what get() returns. */
export interface Sample {
  lr: PlanarImage;
  hr: PlanarImage;
  /** A name for logs and per-image validation results. */
  name?: string;
}

/**
 * A finite, indexable set of (LR, HR) samples; `get(i, rng)` draws sample i with its random crop and
 * augmentation from `rng`.
 */
export interface Dataset {
  readonly length: number;
  /** Sample `i` (0 ≤ i < length), its random choices drawn from `rng`. */
  get(i: number, rng: Generator): Sample;
}

/** A batch as tensors: lr (N, 3, h, w) and hr (N, 3, s·h, s·w). */
export interface Batch {
  lr: Tensor;
  hr: Tensor;
}

/** Something that yields batches and can be rewound to a position (resume). */
export interface BatchSource {
  /** The next batch. */
  next(): Batch;
  /** Samples consumed so far (the whole resumable state). */
  position(): number;
  /** Continue from sample position `position` (what `position()` returned), as a resume does. */
  seek(position: number): void;
}

function sameSize(a: PlanarImage, b: PlanarImage): boolean {
  return a.channels === b.channels && a.height === b.height && a.width === b.width;
}

/** Stack samples into NCHW tensors (every sample must have the same sizes). */
export function collate(samples: Sample[]): Batch {
  if (!samples.length) throw new RangeError('collate: no samples');
  const first = samples[0]!;
  const pack = (key: 'lr' | 'hr') => {
    const f = first[key];
    const n = f.data.length;
    const out = new Float32Array(samples.length * n);
    samples.forEach((s, i) => {
      if (!sameSize(s[key], f)) {
        throw new RangeError(`collate: sample ${i}${s.name ? ` (${s.name})` : ''} ${key} is ${s[key].channels}×${s[key].height}×${s[key].width}, sample 0's ${f.channels}×${f.height}×${f.width}`);
      }
      out.set(s[key].data, i * n);
    });
    return tensor(out, [samples.length, f.channels, f.height, f.width]);
  };
  return { lr: pack('lr'), hr: pack('hr') };
}

/** A Fisher–Yates permutation of 0..n-1 drawn from rng. */
export function permutation(n: number, rng: Generator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * Which dataset index and generator sample k of a run uses: epoch e is the permutation drawn from
 * fork(2e) of the seed, sample k draws from fork(2k + 1). BatchSampler and DataLoader share it, so
 * a run's batches do not depend on how (or on how many threads) they are computed.
 */
export class SampleSchedule {
  readonly length: number;
  readonly seed: number;
  readonly shuffle: boolean;
  #epoch = -1;
  #order: number[] = [];

  constructor(length: number, seed: number, shuffle = true) {
    this.length = length;
    this.seed = seed;
    this.shuffle = shuffle;
  }

  /**
   * The dataset index of the k-th sample drawn (epoch ⌊k / length⌋ shuffled with fork(2·epoch) of the seed).
   */
  index(k: number): number {
    const n = this.length;
    const epoch = Math.floor(k / n);
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#order = this.shuffle ? permutation(n, new Generator(this.seed).fork(2 * epoch)) : Array.from({ length: n }, (_, i) => i);
    }
    return this.#order[k % n]!;
  }

  /** The generator of the k-th sample drawn: fork(2k + 1) of the seed. */
  generator(k: number): Generator {
    return new Generator(this.seed).fork(2 * k + 1);
  }
}

/**
 * Distributed training (docs/distributed-training.md): process `index` of `count` takes samples
 * index·b .. (index+1)·b − 1 of every batch of the run, b = batch / count, so the processes
 * together see exactly the samples one process would; the position stays global (samples of the
 * whole batch), so a checkpoint resumes under any process count.
 */
export interface Shard {
  index: number;
  count: number;
}

/** The shard (default: the whole batch), checked against the batch size. */
export function checkShard(shard: Shard | undefined, batch: number, who: string): Shard {
  if (!shard) return { index: 0, count: 1 };
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`${who}: shard.count must be a positive integer, got ${count}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new RangeError(`${who}: shard.index must be an integer in 0..${count - 1}, got ${index}`);
  if (batch % count !== 0) throw new RangeError(`${who}: the batch (${batch}) must divide evenly over ${count} processes`);
  return { index, count };
}

/** Shuffled, endless batches of `batch` samples; see the header for how it stays resumable. */
export class BatchSampler implements BatchSource {
  readonly dataset: Dataset;
  readonly batch: number;
  readonly seed: number;
  readonly shuffle: boolean;
  #consumed = 0;
  readonly #schedule: SampleSchedule;

  /** Distributed training: this process's slice of each batch (see Shard). */
  readonly shard: Shard;
  readonly #local: number;

  constructor(dataset: Dataset, o: { batch: number; seed: number; shuffle?: boolean; shard?: Shard }) {
    if (dataset.length < 1) throw new RangeError('BatchSampler: the dataset is empty');
    if (!Number.isSafeInteger(o.batch) || o.batch < 1) throw new RangeError(`BatchSampler: batch must be a positive integer, got ${o.batch}`);
    this.shard = checkShard(o.shard, o.batch, 'BatchSampler');
    this.#local = o.batch / this.shard.count;
    this.dataset = dataset;
    this.batch = o.batch;
    this.seed = o.seed;
    this.shuffle = o.shuffle ?? true;
    this.#schedule = new SampleSchedule(dataset.length, this.seed, this.shuffle);
  }

  /** The samples of the next batch, without collating. */
  nextSamples(): Sample[] {
    const out: Sample[] = [];
    const first = this.#consumed + this.shard.index * this.#local;
    for (let k = first; k < first + this.#local; k++) out.push(this.dataset.get(this.#schedule.index(k), this.#schedule.generator(k)));
    this.#consumed += this.batch;
    return out;
  }

  /** The next batch (stacked LR and HR tensors). */
  next(): Batch {
    return collate(this.nextSamples());
  }

  position(): number {
    return this.#consumed;
  }

  /** Continue from sample position `position`. */
  seek(position: number): void {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`BatchSampler.seek: position must be a non-negative integer, got ${position}`);
    this.#consumed = position;
  }
}

/** A planar image from a tensor (C, H, W) or (1, C, H, W). */
export function tensorToPlanar(t: Tensor): PlanarImage {
  const s = t.shape;
  if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) throw new RangeError(`tensorToPlanar: expected (C, H, W) or (1, C, H, W), got [${s.join(', ')}]`);
  const [c, h, w] = s.slice(-3) as [number, number, number];
  return { data: t.toFloat32Array(), channels: c, height: h, width: w };
}

/**
 * Fixed (LR, HR) pairs held in memory, from tensors (N, C, h, w) / (N, C, H, W) or lists of
 * planar images. get() ignores rng and returns the pair as it is.
 */
export class InMemoryDataset implements Dataset {
  readonly #pairs: Sample[];

  constructor(lr: Tensor | PlanarImage[], hr: Tensor | PlanarImage[]) {
    const split = (x: Tensor | PlanarImage[], what: string): PlanarImage[] => {
      if (Array.isArray(x)) return x;
      if (x.rank !== 4) throw new RangeError(`InMemoryDataset: ${what} must be (N, C, H, W), got [${x.shape.join(', ')}]`);
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const all = x.toFloat32Array();
      const size = c * h * w;
      return Array.from({ length: n }, (_, i) => ({ data: all.slice(i * size, (i + 1) * size), channels: c, height: h, width: w }));
    };
    const l = split(lr, 'lr');
    const h = split(hr, 'hr');
    if (l.length !== h.length) throw new RangeError(`InMemoryDataset: ${l.length} LR images but ${h.length} HR images`);
    if (!l.length) throw new RangeError('InMemoryDataset: no images');
    this.#pairs = l.map((x, i) => ({ lr: x, hr: h[i]!, name: String(i) }));
  }

  /** Number of image pairs. */
  get length(): number {
    return this.#pairs.length;
  }

  /** Pair `i` as stored (no crop, no augmentation). */
  get(i: number): Sample {
    const p = this.#pairs[i];
    if (!p) throw new RangeError(`InMemoryDataset: index ${i} out of range (length ${this.length})`);
    return p;
  }
}

/** Turns an HR image into its LR version (×scale smaller). */
export type Degrade = (hr: PlanarImage, scale: number, rng: Generator) => PlanarImage;

/** Average pooling by the scale (see planar.ts). */
export const boxDegrade: Degrade = (hr, scale) => boxDownsample(hr, scale);

/** MATLAB's bicubic imresize with antialiasing (docs/model.md §4), the default way to make LR images. */
export const bicubicDegrade: Degrade = (hr, scale) => {
  const h = Math.floor(hr.height / scale);
  const w = Math.floor(hr.width / scale);
  return noGrad(() =>
    tidy(() => {
      const x = tensor(hr.data, [1, hr.channels, hr.height, hr.width]);
      const y = imresize(x, { size: [h, w] });
      return { data: y.toFloat32Array(), channels: hr.channels, height: h, width: w };
    }),
  );
};

/** Options of a {@link PatchDataset}: scale, LR patch size, augmentation and how LR images are made. */
export interface PatchOptions {
  scale: number;
  /** LR patch size (the HR patch is scale × larger); null: the whole image, cut to a multiple of scale. */
  patch: number | null;
  /** Random h-flip, v-flip and 90° rotation (training). */
  augment?: boolean;
  /** Random crop positions (training) or the centre (validation). Default: augment. */
  randomCrop?: boolean;
  /** How HR-only images get their LR version (default bicubicDegrade). */
  degrade?: Degrade;
}

/**
 * Patches of images. Each source is an HR image (the LR comes from `degrade`) or an (LR, HR) pair
 * whose HR is scale × the LR. Crops are aligned so that LR pixel (y, x) covers HR (s·y, s·x).
 */
export class PatchDataset implements Dataset {
  readonly #sources: { hr: PlanarImage; lr?: PlanarImage; name: string }[];
  readonly o: Required<Omit<PatchOptions, 'degrade'>> & { degrade: Degrade };

  constructor(sources: { hr: PlanarImage; lr?: PlanarImage; name?: string }[], o: PatchOptions) {
    if (!sources.length) throw new RangeError('PatchDataset: no images');
    const augment = o.augment ?? false;
    this.o = { scale: o.scale, patch: o.patch, augment, randomCrop: o.randomCrop ?? augment, degrade: o.degrade ?? bicubicDegrade };
    const s = o.scale;
    this.#sources = sources.map((src, i) => {
      const name = src.name ?? String(i);
      const lrH = src.lr ? src.lr.height : Math.floor(src.hr.height / s);
      const lrW = src.lr ? src.lr.width : Math.floor(src.hr.width / s);
      if (src.lr && (src.hr.height < s * lrH || src.hr.width < s * lrW)) throw new RangeError(`PatchDataset: ${name}: HR ${src.hr.height}×${src.hr.width} is smaller than ${s} × LR ${lrH}×${lrW}`);
      if (o.patch !== null && (lrH < o.patch || lrW < o.patch)) throw new RangeError(`PatchDataset: ${name}: LR size ${lrH}×${lrW} is smaller than the patch ${o.patch}`);
      return { hr: src.hr, lr: src.lr, name };
    });
  }

  /** Number of source images. */
  get length(): number {
    return this.#sources.length;
  }

  /** A random patch of image `i` (or the whole image when `patch` is null), augmented, drawn from `rng`. */
  get(i: number, rng: Generator): Sample {
    const src = this.#sources[i];
    if (!src) throw new RangeError(`PatchDataset: index ${i} out of range (length ${this.length})`);
    const s = this.o.scale;
    const lrH = src.lr ? src.lr.height : Math.floor(src.hr.height / s);
    const lrW = src.lr ? src.lr.width : Math.floor(src.hr.width / s);
    const ph = this.o.patch ?? lrH;
    const pw = this.o.patch ?? lrW;
    const top = this.o.randomCrop ? rng.nextInt(lrH - ph + 1) : Math.floor((lrH - ph) / 2);
    const left = this.o.randomCrop ? rng.nextInt(lrW - pw + 1) : Math.floor((lrW - pw) / 2);
    let hr = crop(src.hr, s * top, s * left, s * ph, s * pw);
    let lr = src.lr ? crop(src.lr, top, left, ph, pw) : null;
    if (this.o.augment) {
      const flips = { h: rng.next() < 0.5, v: rng.next() < 0.5, t: rng.next() < 0.5 };
      hr = orient(hr, flips);
      if (lr) lr = orient(lr, flips);
    }
    lr ??= this.o.degrade(hr, s, rng);
    return { lr, hr, name: src.name };
  }
}
