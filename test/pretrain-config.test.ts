// `mpfnet pretrain-embedding` takes its images in the same dataset form as `mpfnet train`
// (data.train = {type: "images", dir | files, limit}) as well as its original data.dir / data.files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPretrainConfig, resolvePretrainConfig } from '../lib/train/pretrain-embedding.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-pretrain-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { out: 'runs/e', iters: 10, batch: 4 };

describe('pretrain-embedding data', () => {
  it("accepts mpfnet train's dataset spec and resolves it like the original form", () => {
    const file = (name: string, config: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(config));
      return p;
    };
    const asTrain = loadPretrainConfig(file('train-form.json', { ...base, data: { train: { type: 'images', dir: 'photos', limit: 5 }, patch: 96 } }));
    const original = loadPretrainConfig(file('old-form.json', { ...base, data: { dir: 'photos', limit: 5, patch: 96 } }));
    expect(asTrain).toEqual(original);
    expect(asTrain.data).toMatchObject({ dir: 'photos', files: null, limit: 5, patch: 96 });
    const files = resolvePretrainConfig({ ...base, data: { train: { type: 'images', files: ['a.png', 'b.png'] } } });
    expect(files.data).toMatchObject({ dir: null, files: ['a.png', 'b.png'], limit: null, patch: 192 });
    // A spec copied from a training config with its degradation still loads (E does not degrade).
    expect(resolvePretrainConfig({ ...base, data: { train: { type: 'images', dir: 'hr', degradation: 'realesrgan' } } }).data.dir).toBe('hr');
  });

  it('rejects mixed or unusable specs, naming the field', () => {
    const bad = (data: unknown) => () => resolvePretrainConfig({ ...base, data });
    expect(bad({ train: { type: 'images', dir: 'a' }, dir: 'b' })).toThrow(/data\.dir: give the images either as data\.train .* or as data\.dir \/ data\.files, not both/);
    expect(bad({ train: { type: 'paired', root: '.', hr: 'hr/{name}.png', lr: 'lr/{name}.png' } })).toThrow(/data\.train\.type: pretrain-embedding reads HR images: must be "images", got "paired"/);
    expect(bad({ train: { type: 'images' } })).toThrow(/data\.train: needs exactly one of 'dir' and 'files'/);
    expect(bad({ train: { type: 'imgs', dir: 'a' } })).toThrow(/data\.train\.type: must be one of/);
    expect(bad({ train: { type: 'images', dirr: 'a' } })).toThrow(/data\.train: unknown field 'dirr'/);
    expect(bad({ patch: 64 })).toThrow(/data: needs exactly one of 'dir' and 'files' \(HR images\), or data\.train/);
    expect(bad({ val: { type: 'images', dir: 'a' }, dir: 'b' })).toThrow(/data: unknown field 'val'/);
  });
});
