/// <reference lib="dom" />
// (DOM types: the callbacks given to page.evaluate run in the page.)
// The browser example (examples/browser/) in a real headless browser: Debian's chromium driven by
// playwright-core loads the page from `serveExample`, picks an exported model (trained by PyTorch,
// test/fixtures/gen_onnx.py), upscales the bundled photo through the page's own controls, and the
// result read back from the page's canvas must match `upscale()` in Node (≥ 45 dB PSNR).
// Without /usr/bin/chromium (or MPFNET_CHROMIUM) the test is skipped and says why.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { exportOnnx } from '../lib/export/onnx/index.js';
import { upscale } from '../lib/infer/upscale.js';
import type { Image } from '../lib/io/image.js';
import { serveExample } from '../lib/serve/example-server.js';
import { repoRoot } from './helpers/cli.js';

const browserPath = process.env.MPFNET_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(browserPath);
if (!haveBrowser) console.warn(`onnx-browser.test.ts: SKIPPED: no browser at ${browserPath} (apt-get install chromium, or set MPFNET_CHROMIUM)`);

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve-example server', () => {
  it('serves the page cross-origin isolated, on 127.0.0.1, confined to its folders', async () => {
    const models = mkdtempSync(join(dir, 'm-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(models, 'a.onnx'), 'x');
    writeFileSync(join(models, 'secret.txt'), 'x');
    const server = await serveExample({ port: 0, models });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await page.text()).toContain('app.js');
      expect(await (await fetch(`${server.url}models/index.json`)).json()).toEqual([{ name: 'a.onnx', url: '/models/a.onnx' }]);
      expect((await fetch(`${server.url}ort/ort-wasm-simd-threaded.wasm`)).headers.get('content-type')).toBe('application/wasm');
      const blend = await fetch(`${server.url}mpfnet/blend.js`);
      expect(blend.status).toBe(200);
      expect(await blend.text()).toContain('class BandAccumulator');
      for (const bad of ['models/secret.txt', 'mpfnet/upscale.js', '..%2Fpackage.json', 'photos/..%2F..%2Fpackage.json', 'nothing.html'])
        expect((await fetch(`${server.url}${bad}`)).status, bad).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      await expect(serveExample({ port: 70000 })).rejects.toThrow(/port must be/);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!haveBrowser)('browser example in headless chromium', () => {
  it('upscales the sample photo like upscale() in Node (≥ 45 dB)', async () => {
    const checkpoint = new URL('./fixtures/onnx/x2-nocross.safetensors', import.meta.url).pathname;
    const models = join(dir, 'models');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(models);
    await exportOnnx(checkpoint, join(models, 'x2-nocross.onnx'));
    const server = await serveExample({ port: 0, models });
    const profile = mkdtempSync(join(dir, 'profile-'));
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | null = null;
    try {
      try {
        context = await chromium.launchPersistentContext(profile, {
          executablePath: browserPath,
          headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        });
      } catch (e) {
        throw new Error(`onnx-browser.test.ts: ${browserPath} did not start: ${(e as Error).message.split('\n')[0]}`);
      }
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      await page.selectOption('#model', '/models/x2-nocross.onnx');
      await page.fill('#tile', '128');
      await page.fill('#pad', '16');
      await page.click('#sample');
      await page.waitForSelector('#run:not([disabled])');
      await page.click('#run');
      await page.waitForFunction(() => (document.getElementById('download') as HTMLAnchorElement).href.startsWith('blob:'), null, { timeout: 60_000 });
      expect(await page.textContent('#status')).toMatch(/451×300 → 902×600/);
      expect(await page.evaluate(() => (document.getElementById('progress') as HTMLProgressElement).value)).toBe(12);
      const got = await page.evaluate(() => {
        const c = document.getElementById('after') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let i = 0; i < d.length; i += 4) s += String.fromCharCode(d[i]!, d[i + 1]!, d[i + 2]!);
        return { width: c.width, height: c.height, rgb: btoa(s) };
      });
      expect(errors).toEqual([]);
      const browserRgb = Buffer.from(got.rgb, 'base64');
      const node = (await upscale(join(repoRoot, 'data', 'images', 'chelsea.png'), { model: checkpoint, tile: 128, tilePad: 16, format: 'raw' })) as unknown as Image;
      expect([got.width, got.height]).toEqual([node.width, node.height]);
      expect(node.channels).toBe(3);
      let se = 0;
      for (let i = 0; i < browserRgb.length; i++) se += (browserRgb[i]! - node.data[i]!) ** 2;
      const db = 10 * Math.log10((255 * 255 * browserRgb.length) / Math.max(se, 1e-12));
      console.log(`browser (onnxruntime-web WASM in chromium) vs upscale() in Node: ${db.toFixed(1)} dB over ${got.width}×${got.height}`);
      expect(db).toBeGreaterThanOrEqual(45);
    } finally {
      await context?.close();
      await server.close();
    }
  });
});
