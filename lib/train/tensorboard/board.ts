// A TensorBoard summary writer: scalars and images (PNG, encoded by sharp) as events in one
// tfevents file. Records land in the file in the order they were asked for, even though images
// are encoded asynchronously (off the event loop's thread, in libvips): a scalar asked for while
// an image is still encoding waits for it.
import { encodeImage, type Image } from '../../io/image.js';
import { EventFileWriter } from './event-file.js';
import { SESSION_START, type EventFields } from './schema.js';

function checkTag(fn: string, tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || !tag) throw new TypeError(`${fn}: the tag must be a non-empty string, got ${JSON.stringify(tag)}`);
}

function checkStep(fn: string, step: unknown): asserts step is number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new RangeError(`${fn}: the step must be a non-negative integer, got ${String(step)}`);
}

/** Writes scalars and images for TensorBoard into `<logDir>/events.out.tfevents.*`. */
export class SummaryWriter {
  readonly #file: EventFileWriter;
  /** Records waiting for an image ahead of them to be encoded. */
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #error: Error | null = null;

  /** Create `logDir` if needed and open a new event file in it. */
  constructor(
    /** The folder `tensorboard --logdir` (or a parent of it) is pointed at. */
    readonly logDir: string,
  ) {
    this.#file = new EventFileWriter(logDir);
  }

  /** The event file being written. */
  get path(): string {
    return this.#file.path;
  }

  /** Record a scalar (NaN and ±Infinity are written as they are; TensorBoard shows them). */
  addScalar(tag: string, value: number, step: number): void {
    checkTag('addScalar', tag);
    checkStep('addScalar', step);
    if (typeof value !== 'number') throw new TypeError(`addScalar: '${tag}': the value must be a number, got ${typeof value}`);
    this.#enqueue({ wall_time: Date.now() / 1000, step, summary: { value: [{ tag, simple_value: value }] } });
  }

  /**
   * Record an 8-bit grey or RGB image (encoded as PNG). Resolves once it is written; a failure
   * also makes the next write, flush() or close() throw.
   */
  addImage(tag: string, image: Image, step: number): Promise<void> {
    checkTag('addImage', tag);
    checkStep('addImage', step);
    if (!image || !(image.data instanceof Uint8Array) || image.bitDepth !== 8 || (image.channels !== 1 && image.channels !== 3)) {
      throw new TypeError(`addImage: '${tag}': expected an 8-bit grey or RGB Image`);
    }
    const wallTime = Date.now() / 1000;
    const png = encodeImage(image, { format: 'png' });
    // Keep the encode's rejection from being reported as unhandled before the queue reaches it.
    png.catch(() => {});
    return this.#enqueueAsync(async () => ({
      wall_time: wallTime,
      step,
      summary: { value: [{ tag, image: { height: image.height, width: image.width, colorspace: image.channels, encoded_image_string: await png } }] },
    }));
  }

  /**
   * Mark a (re)start at `step`: TensorBoard then drops events of an earlier run of this folder at
   * steps >= `step` (those a crashed run wrote after its last checkpoint).
   */
  sessionStart(step: number): void {
    checkStep('sessionStart', step);
    this.#enqueue({ wall_time: Date.now() / 1000, step, session_log: { status: SESSION_START } });
  }

  /** Wait for queued records, then make the file durable. Rejects with a failed write's error. */
  async flush(): Promise<void> {
    await this.#tail;
    this.#throwIfFailed();
    this.#file.flush();
  }

  /** Flush and close the file. */
  async close(): Promise<void> {
    try {
      await this.#tail;
      this.#throwIfFailed();
    } finally {
      this.#file.close();
    }
  }

  #throwIfFailed(): void {
    if (this.#error) {
      const e = this.#error;
      this.#error = null;
      throw e;
    }
  }

  #enqueue(event: EventFields): void {
    this.#throwIfFailed();
    if (this.#pending === 0) this.#file.write(event);
    else void this.#enqueueAsync(async () => event);
  }

  #enqueueAsync(make: () => Promise<EventFields>): Promise<void> {
    this.#throwIfFailed();
    this.#pending++;
    const done = this.#tail.then(async () => {
      try {
        this.#file.write(await make());
      } catch (e) {
        this.#error ??= e as Error;
        throw e;
      } finally {
        this.#pending--;
      }
    });
    this.#tail = done.catch(() => {});
    return done;
  }
}
