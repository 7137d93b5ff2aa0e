// The shared worker module (lib/workers/): error revival across threads, the options workers get,
// and keeping the process alive exactly while work is pending, checked in child processes started
// as a user would (`node --input-type=module -e ...`, nothing else on the event loop).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFileError } from '../lib/data/dataset-file-error.js';
import { Upscaler } from '../lib/infer/upscale.js';
import { ImageError } from '../lib/io/image.js';
import { SafetensorsError } from '../lib/io/safetensors.js';
import { ConfigError } from '../lib/util/validate.js';
import { KeepAlive, PendingRequests } from '../lib/workers/channel.js';
import { reviveError, serializeError } from '../lib/workers/errors.js';
import { workerExecArgv } from '../lib/workers/spawn.js';

/** A thrown error as the other side of a thread boundary sees it (through structured clone). */
function roundTrip(e: unknown): Error {
  return reviveError(structuredClone(serializeError(e)), 'a test worker');
}

describe('worker errors', () => {
  it('come back as the same class, with message, fields and cause', () => {
    const img = roundTrip(new ImageError("cannot read image 'a.png': truncated", 'a.png', 'TRUNCATED'));
    expect(img).toBeInstanceOf(ImageError);
    expect(img).toBeInstanceOf(TypeError);
    expect(img).toMatchObject({ name: 'ImageError', message: "cannot read image 'a.png': truncated", path: 'a.png', code: 'TRUNCATED' });
    const ds = roundTrip(new DatasetFileError('x.png is too small', 'x.png'));
    expect(ds).toBeInstanceOf(DatasetFileError);
    expect(ds).toBeInstanceOf(RangeError);
    expect((ds as DatasetFileError).file).toBe('x.png');
    expect(roundTrip(new ConfigError('data.patch: must be > 0'))).toBeInstanceOf(ConfigError);
    expect(roundTrip(new SafetensorsError('bad header'))).toBeInstanceOf(SafetensorsError);
    expect(roundTrip(new TypeError('t'))).toBeInstanceOf(TypeError);
    const chained = roundTrip(new RangeError('outer', { cause: new ImageError('inner', 'b.jpg', 'CORRUPT') }));
    expect(chained).toBeInstanceOf(RangeError);
    expect(chained.message).toBe('outer');
    expect(chained.cause).toBeInstanceOf(ImageError);
    expect((chained.cause as ImageError).path).toBe('b.jpg');
    expect(chained.stack).toContain('(in a test worker)');
  });

  it('of unknown classes keep their name and code; thrown non-errors become Errors', () => {
    const sys = Object.assign(new Error('ENOENT: no such file'), { name: 'SystemThing', code: 'ENOENT' });
    const r = roundTrip(sys);
    expect(r.constructor).toBe(Error);
    expect(r).toMatchObject({ name: 'SystemThing', message: 'ENOENT: no such file', code: 'ENOENT' });
    expect(roundTrip('plain string')).toMatchObject({ name: 'Error', message: 'plain string' });
    // A cause chain that loops stops after a few levels instead of recursing forever.
    const a = new Error('a');
    a.cause = a;
    let depth = 0;
    for (let e: unknown = roundTrip(a); e instanceof Error; e = e.cause) depth++;
    expect(depth).toBe(5);
  });
});

describe('the upscale worker', () => {
  it('reports a bad checkpoint as the real error class, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpfnet-workers-'));
    try {
      const path = join(dir, 'broken.safetensors');
      writeFileSync(path, Buffer.from('not a safetensors file at all'));
      const err = await Upscaler.create({ model: path }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SafetensorsError);
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toContain(path);
      expect((err as Error).stack).toContain('(in the upscale worker)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('worker options (execArgv)', () => {
  it("keep module loaders, conditions and --experimental-*, drop the main script's and V8's options", () => {
    expect(workerExecArgv(['--input-type=module', '-e', 'code', '--max-old-space-size=4096', '--conditions', 'x'])).toEqual(['--conditions', 'x']);
    expect(workerExecArgv(['--input-type', 'module', '--eval=1', '-p', 'x', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['--import', 'tsx', '--loader=ts-node/esm', '--experimental-strip-types', '--no-experimental-fetch', '-r', 'dotenv/config'])).toEqual([
      '--import', 'tsx', '--loader=ts-node/esm', '--experimental-strip-types', '--no-experimental-fetch', '-r', 'dotenv/config',
    ]);
    expect(workerExecArgv(['--title', 'job', '--inspect=9229', '-i', '--stack-size=2000', '--no-warnings'])).toEqual(['--no-warnings']);
    // An eval'd script that looks like an option is still the option's value.
    expect(workerExecArgv(['-e', '--import=x', '--trace-warnings'])).toEqual(['--trace-warnings']);
  });
});

describe('keeping the process alive', () => {
  it('KeepAlive refs its handles while held, unrefs them when the last hold is released', () => {
    const calls: string[] = [];
    const h = { ref: () => calls.push('ref'), unref: () => calls.push('unref') };
    const alive = new KeepAlive([h]);
    alive.hold();
    alive.hold();
    alive.release();
    expect(calls).toEqual(['unref', 'ref']);
    alive.release();
    expect(calls).toEqual(['unref', 'ref', 'unref']);
    expect(() => alive.release()).toThrow(/without hold/);
  });

  it('PendingRequests holds once per request and resolves idle() when the last is settled', async () => {
    const alive = new KeepAlive([]);
    const pending = new PendingRequests<number>(alive);
    const a = pending.open();
    const b = pending.open();
    expect(alive.holds).toBe(2);
    let idle = false;
    void pending.idle().then(() => (idle = true));
    pending.settle(a.id, { value: 7 });
    pending.settle(a.id, { value: 8 }); // a second answer is ignored
    await expect(a.answer).resolves.toBe(7);
    expect(idle).toBe(false);
    pending.rejectAll(new RangeError('gone'));
    await expect(b.answer).rejects.toThrow('gone');
    await Promise.resolve();
    expect(idle).toBe(true);
    expect(alive.holds).toBe(0);
  });

  // Child scripts run from the TypeScript sources through the workers' own module hooks.
  const url = (p: string) => pathToFileURL(join(__dirname, '..', p)).href;
  const prelude = `
    import { register } from 'node:module';
    register(${JSON.stringify(url('lib/workers/ts-worker-hooks.mjs'))});
    const { upscale } = await import(${JSON.stringify(url('lib/infer/upscale.ts'))});
    const { createModel } = await import(${JSON.stringify(url('lib/models/mpfnet/mpfnet.ts'))});
    const model = createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 1 });
    const data = new Uint8Array(48 * 48 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
    const input = { data, width: 48, height: 48, channels: 3 };
  `;
  const runChild = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', prelude + code], { encoding: 'utf8', timeout: 120_000, env: process.env });

  it('upscale() works from `node --input-type=module -e` (the worker does not inherit --input-type)', () => {
    const r = runChild(`
      const out = await upscale(input, { model, tile: 16, tilePad: 4 });
      console.log('upscaled', out.width + 'x' + out.height);
    `);
    expect(r.stderr).not.toMatch(/input-type/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('upscaled 96x96');
  });

  it('an upscale aborted from onProgress reaches the caller\'s catch (no exit 13 with the await unsettled)', () => {
    const r = runChild(`
      const controller = new AbortController();
      try {
        await upscale(input, { model, tile: 16, tilePad: 4, signal: controller.signal, onProgress: (p) => { if (p.tilesDone === 1) controller.abort(); } });
        console.log('not aborted');
      } catch (e) {
        console.log('caught', e.name);
      }
      model.dispose();
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('caught AbortError');
  });
});
