// TensorBoard event files (lib/train/tensorboard): read back with a reader written here from the
// TFRecord format description (its own bitwise CRC-32C, its own protobufjs schema), compared byte
// for byte with records made by TensorBoard's own Python code (test/fixtures/gen_tfevents.py), and
// written by a real training run with the tags docs/tensorboard.md promises.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { Image } from '../lib/io/image.js';
import { resolveTrainConfig } from '../lib/train/config.js';
import { readJsonl } from '../lib/train/log.js';
import { crc32c, maskedCrc32c } from '../lib/train/tensorboard/crc32c.js';
import { encodeRecord } from '../lib/train/tensorboard/event-file.js';
import { encodeEvent, type EventFields } from '../lib/train/tensorboard/schema.js';
import { SummaryWriter } from '../lib/train/tensorboard/board.js';
import { TrainingBoard } from '../lib/train/tensorboard/training-board.js';
import { train } from '../lib/train/trainer.js';
import { repoRoot } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-tb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- An independent reader -------------------------------------------------------------------

/** CRC-32C bit by bit (no table), Castagnoli polynomial reflected. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const b of bytes) {
    crc = (crc ^ b) >>> 0;
    for (let k = 0; k < 8; k++) crc = ((crc >>> 1) ^ (0x82f63b78 & -(crc & 1))) >>> 0;
  }
  return ~crc >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** The records of a TFRecord file, both CRCs checked. */
function readRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes.length - at).toBeGreaterThanOrEqual(16);
    const len = Number(view.getBigUint64(at, true));
    expect(view.getUint32(at + 8, true)).toBe(mask(crc32cBitwise(bytes.subarray(at, at + 8))));
    const data = bytes.subarray(at + 12, at + 12 + len);
    expect(data.length).toBe(len);
    expect(view.getUint32(at + 12 + len, true)).toBe(mask(crc32cBitwise(data)));
    out.push(data);
    at += 16 + len;
  }
  return out;
}

// TensorBoard's Event / Summary field numbers (event.proto, summary.proto), as a JSON descriptor.
const readerRoot = protobuf.Root.fromJSON({
  nested: {
    Event: {
      fields: { wall_time: { type: 'double', id: 1 }, step: { type: 'int64', id: 2 }, file_version: { type: 'string', id: 3 }, summary: { type: 'Summary', id: 5 }, session_log: { type: 'SessionLog', id: 7 } },
    },
    SessionLog: { fields: { status: { type: 'int32', id: 1 } } },
    Summary: {
      fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
      nested: {
        Value: { fields: { tag: { type: 'string', id: 1 }, simple_value: { type: 'float', id: 2 }, image: { type: 'Img', id: 4 } } },
        Img: { fields: { height: { type: 'int32', id: 1 }, width: { type: 'int32', id: 2 }, colorspace: { type: 'int32', id: 3 }, encoded_image_string: { type: 'bytes', id: 4 } } },
      },
    },
  },
});
const ReaderEvent = readerRoot.lookupType('Event');

interface ReadEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  session_log?: { status: number };
  summary?: { value: { tag: string; simple_value?: number; image?: { height: number; width: number; colorspace: number; encoded_image_string: Uint8Array } }[] };
}

function readEvents(path: string): ReadEvent[] {
  return readRecords(new Uint8Array(readFileSync(path))).map((r) => ReaderEvent.toObject(ReaderEvent.decode(r), { longs: Number, defaults: true }) as ReadEvent);
}

function eventFiles(d: string): string[] {
  return readdirSync(d)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .map((f) => join(d, f));
}

function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24));
}

function randomImage(width: number, height: number, channels: 1 | 3, seed: number): Image {
  return { data: randomBytes(width * height * channels, seed), width, height, channels, bitDepth: 8, format: 'raw', hasAlpha: false };
}

// ---- Tests -----------------------------------------------------------------------------------

describe('CRC-32C', () => {
  it('gives the published check value and agrees with a bitwise implementation', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc32cBitwise(check)).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    for (const n of [1, 7, 8, 255, 1000, 4099]) {
      const b = randomBytes(n, n);
      expect(crc32c(b)).toBe(crc32cBitwise(b));
      expect(maskedCrc32c(b)).toBe(mask(crc32cBitwise(b)));
    }
  });
});

describe('tfevents records', () => {
  const fixture = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'tfevents.json'), 'utf8')) as { records: { event: Record<string, unknown>; record_hex: string }[] };
  it('are byte for byte what TensorBoard\'s RecordWriter writes for the same events', () => {
    expect(fixture.records.length).toBe(4);
    for (const { event, record_hex } of fixture.records) {
      // The fixture spells bytes as hex (JSON has no bytes).
      type HexImage = { height: number; width: number; colorspace: number; encoded_image_string_hex?: string };
      const fields = JSON.parse(JSON.stringify(event), (k, v: unknown) => {
        const img = v as HexImage;
        return k === 'image' && img.encoded_image_string_hex
          ? { height: img.height, width: img.width, colorspace: img.colorspace, encoded_image_string: Buffer.from(img.encoded_image_string_hex, 'hex') }
          : v;
      }) as EventFields;
      expect(Buffer.from(encodeRecord(encodeEvent(fields))).toString('hex')).toBe(record_hex);
      // And the independent reader reads TensorBoard's bytes back.
      const [data] = readRecords(Buffer.from(record_hex, 'hex'));
      const back = ReaderEvent.toObject(ReaderEvent.decode(data!), { longs: Number, defaults: true }) as ReadEvent;
      expect(back.step).toBe(fields.step);
      expect(back.wall_time).toBe(fields.wall_time);
    }
  });
});

describe('SummaryWriter', () => {
  it('writes scalars and PNG images in the order asked, readable with both CRCs', async () => {
    const d = join(dir, 'writer');
    const w = new SummaryWriter(d);
    expect(w.path).toMatch(/events\.out\.tfevents\.\d{10}\.[^/]+$/);
    const values = Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7) * 10 ** ((i % 7) - 3));
    w.sessionStart(1);
    for (let i = 0; i < 10; i++) w.addScalar('loss/l1', values[i]!, i + 1);
    const rgb = randomImage(37, 23, 3, 1);
    const grey = randomImage(16, 9, 1, 2);
    const written = w.addImage('val/images/rgb', rgb, 10);
    void w.addImage('val/images/grey', grey, 10);
    // Asked for while the images encode: must land after them.
    for (let i = 10; i < 20; i++) w.addScalar('train/lr', values[i]!, i + 1);
    await written;
    await w.close();
    expect(() => w.addScalar('x', 1, 1)).toThrow(/closed/);

    const [path] = eventFiles(d);
    const events = readEvents(path!);
    expect(events[0]!.file_version).toBe('brain.Event:2');
    expect(events[1]!.session_log!.status).toBe(1);
    expect(events[1]!.step).toBe(1);
    const summaries = events.slice(2);
    expect(summaries.length).toBe(22);
    const now = Date.now() / 1000;
    for (const e of events) expect(Math.abs(e.wall_time - now)).toBeLessThan(60);
    const tags = summaries.map((e) => e.summary!.value[0]!.tag);
    expect(tags).toEqual([...Array<string>(10).fill('loss/l1'), 'val/images/rgb', 'val/images/grey', ...Array<string>(10).fill('train/lr')]);
    for (const [k, e] of summaries.entries()) {
      if (k === 10 || k === 11) continue;
      const i = k < 10 ? k : k - 2;
      expect(e.step).toBe(i + 1);
      expect(e.summary!.value[0]!.simple_value).toBe(Math.fround(values[i]!));
    }
    for (const [e, img] of [
      [summaries[10]!, rgb],
      [summaries[11]!, grey],
    ] as const) {
      const v = e.summary!.value[0]!.image!;
      expect(e.step).toBe(10);
      expect([v.width, v.height, v.colorspace]).toEqual([img.width, img.height, img.channels]);
      const png = Buffer.from(v.encoded_image_string);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      const meta = await sharp(png).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', img.width, img.height, img.channels]);
      // sharp decodes to sRGB unless asked to keep one grey channel.
      const decoder = img.channels === 1 ? sharp(png).toColourspace('b-w') : sharp(png);
      const { data, info } = await decoder.raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(img.channels);
      expect(Buffer.compare(data, Buffer.from(img.data))).toBe(0); // PNG is lossless: every sample
    }
  });

  it('rejects bad input naming it', async () => {
    const w = new SummaryWriter(join(dir, 'bad'));
    expect(() => w.addScalar('', 1, 0)).toThrow(TypeError);
    expect(() => w.addScalar('', 1, 0)).toThrow(/tag must be a non-empty string, got ""/);
    expect(() => w.addScalar('a', 1, -1)).toThrow(RangeError);
    expect(() => w.addScalar('a', 1, 1.5)).toThrow(/step must be a non-negative integer, got 1.5/);
    expect(() => w.addScalar('a', '1' as unknown as number, 1)).toThrow(/'a': the value must be a number, got string/);
    expect(() => w.addImage('img', { ...randomImage(4, 4, 3, 3), bitDepth: 16 } as unknown as Image, 1)).toThrow(/'img': expected an 8-bit grey or RGB Image/);
    expect(() => new SummaryWriter('')).toThrow(/folder must be a non-empty string/);
    await w.close();
    // Only the file version was written.
    expect(readEvents(eventFiles(join(dir, 'bad'))[0]!).length).toBe(1);
  });

  it('a (re)started training board marks the session start after the resumed iteration', async () => {
    const b = new TrainingBoard(join(dir, 'resume'), 500);
    await b.close();
    const events = readEvents(eventFiles(join(dir, 'resume'))[0]!);
    expect(events[1]).toMatchObject({ step: 501, session_log: { status: 1 } });
  });
});

describe('training writes TensorBoard logs', () => {
  const images = join(repoRoot, 'data', 'images');
  const config = (out: string, log: Record<string, unknown>) =>
    resolveTrainConfig({
      model: { scale: 2, channels: 8, nCpb: 1 },
      seed: 3,
      out,
      data: { train: { type: 'images', dir: images }, val: { type: 'images', dir: images }, batch: 2, patch: 16, workers: 0 },
      stages: [{ name: 'l1', iters: 6, lr: 1e-3, loss: { l1: 1 } }],
      validation: { every: 3, patch: 24 },
      checkpoint: { every: 0, keep: 1 },
      log: { every: 2, ...log },
    });

  it('every loss term, lr, it/s, PSNR / SSIM and LR | SR | HR images; train.jsonl kept', async () => {
    const out = join(dir, 'run');
    await train(config(out, { images: 2, imageSize: 40 }));
    const files = eventFiles(join(out, 'tb'));
    expect(files.length).toBe(1);
    const events = readEvents(files[0]!);
    const byTag = new Map<string, ReadEvent[]>();
    for (const e of events) for (const v of e.summary?.value ?? []) byTag.set(v.tag, [...(byTag.get(v.tag) ?? []), e]);
    const steps = (tag: string) => (byTag.get(tag) ?? []).map((e) => e.step);
    for (const tag of ['loss/total', 'loss/l1', 'train/lr', 'train/iterations_per_second']) expect(steps(tag), tag).toEqual([2, 4, 6]);
    expect(steps('val/psnr')).toEqual([3, 6]);
    expect(steps('val/ssim')).toEqual([3, 6]);
    // Scalars agree with train.jsonl (float32 in the event file).
    const log = readJsonl(join(out, 'train.jsonl'));
    const val = log.filter((e) => e.val) as unknown as { iteration: number; val: { psnr: number; ssim: number } }[];
    expect(val.map((e) => e.iteration)).toEqual([3, 6]);
    const scalar = (tag: string, i: number) => byTag.get(tag)![i]!.summary!.value.find((v) => v.tag === tag)!.simple_value;
    for (const i of [0, 1]) {
      expect(scalar('val/psnr', i)).toBe(Math.fround(val[i]!.val.psnr));
      expect(scalar('val/ssim', i)).toBe(Math.fround(val[i]!.val.ssim));
      expect(val[i]!.val.ssim).toBeGreaterThan(0);
      expect(val[i]!.val.ssim).toBeLessThanOrEqual(1);
    }
    const lines = log.filter((e) => typeof e.loss === 'number') as unknown as { iteration: number; loss: number; lr: number; losses: Record<string, number> }[];
    expect(lines.map((e) => e.iteration)).toEqual([2, 4, 6]);
    for (const [i, e] of lines.entries()) {
      expect(scalar('loss/total', i)).toBe(Math.fround(e.loss));
      expect(scalar('loss/l1', i)).toBe(Math.fround(e.losses.l1!));
      expect(scalar('train/lr', i)).toBe(Math.fround(e.lr));
      expect(scalar('train/iterations_per_second', i)).toBeGreaterThan(0);
    }
    // The first two validation images (sorted names: camera, chelsea), at both validations:
    // 40×40 HR crops (20×20 LR, nearest-upscaled) side by side with 4-pixel gaps.
    const imageTags = [...byTag.keys()].filter((t) => t.startsWith('val/images/')).sort();
    expect(imageTags).toEqual(['val/images/camera', 'val/images/chelsea']);
    for (const tag of imageTags) {
      expect(steps(tag)).toEqual([3, 6]);
      for (const e of byTag.get(tag)!) {
        const v = e.summary!.value[0]!.image!;
        const meta = await sharp(Buffer.from(v.encoded_image_string)).metadata();
        expect(meta.format).toBe('png');
        expect([meta.width, meta.height, v.width, v.height]).toEqual([3 * 40 + 8, 40, 3 * 40 + 8, 40]);
        expect(v.colorspace).toBe(meta.channels);
      }
    }
  });

  // TensorBoard's own reader, where it can be imported: the `tensorboard` Python package, or a
  // source checkout with compiled protos named by MPFNET_TENSORBOARD_SRC (docs/tensorboard.md).
  const tbSrc = process.env.MPFNET_TENSORBOARD_SRC;
  const tbArgs = tbSrc ? ['--tensorboard-src', tbSrc] : [];
  const probe = spawnSync('python3', ['-c', `import sys; sys.path[:0] = ${JSON.stringify(tbSrc ? [tbSrc] : [])}; import tensorboard.backend.event_processing.event_accumulator`], { encoding: 'utf8' });
  const haveTensorBoard = probe.status === 0;
  if (!haveTensorBoard) console.log(`skipping the check with TensorBoard's own reader: tensorboard cannot be imported (pip install tensorboard, or set MPFNET_TENSORBOARD_SRC): ${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}`);
  it.skipIf(!haveTensorBoard)("TensorBoard's own reader loads the run (tools/check_tensorboard.py)", () => {
    const tb = join(dir, 'run', 'tb');
    const expect_ = ['loss/total', 'loss/l1', 'train/lr', 'train/iterations_per_second', 'val/psnr', 'val/ssim'].flatMap((t) => ['--expect-scalar', t]);
    const r = spawnSync('python3', [join(repoRoot, 'tools', 'check_tensorboard.py'), tb, ...tbArgs, ...expect_, '--expect-image', 'val/images/camera', '--expect-image', 'val/images/chelsea'], { encoding: 'utf8' });
    console.log(r.stdout);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/scalar val\/psnr: 2 points, steps 3\.\.6/);
    expect(r.stdout).toMatch(/image val\/images\/camera: 2 images, steps 3\.\.6, 128x40 PNG/);
  });

  it('log.tensorboard false, or a process that is not the log writer, writes none', async () => {
    const off = join(dir, 'off');
    await train(config(off, { tensorboard: false }));
    expect(existsSync(join(off, 'tb'))).toBe(false);
    expect(existsSync(join(off, 'train.jsonl'))).toBe(true);
    const rank1 = join(dir, 'rank1');
    await train(config(rank1, {}), { isLogWriter: false });
    expect(existsSync(join(rank1, 'tb'))).toBe(false);
    expect(() => config(off, { tensorboard: 1 })).toThrow(/log\.tensorboard/);
    expect(() => config(off, { images: 65 })).toThrow(/log\.images/);
  });
});
