// The page: pick a model and an image, upscale in onnxruntime-web (WASM), show before/after and
// offer the PNG. window.mpfnetExample exposes the same steps to scripts (the headless test).
import * as ort from '/ort/ort.wasm.min.mjs';
import { upscaleRgba } from './upscaler.js';

ort.env.wasm.wasmPaths = '/ort/';
// Threads need cross-origin isolation, which `mpfnet serve-example` turns on (COOP/COEP headers).
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

const $ = (id) => document.getElementById(id);
let input = null; // {width, height, rgba, bitmap}
let sessionCache = { key: null, session: null };

async function decode(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = c.getContext('2d');
  g.drawImage(bitmap, 0, 0);
  return { width: bitmap.width, height: bitmap.height, rgba: g.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap };
}

async function session(bytesOrUrl, key) {
  if (sessionCache.key !== key) {
    await sessionCache.session?.release();
    sessionCache = { key, session: await ort.InferenceSession.create(bytesOrUrl, { executionProviders: ['wasm'] }) };
  }
  return sessionCache.session;
}

/** Upscale an image (URL or Blob) with a model (URL or bytes); returns {width, height, rgba}. */
async function upscale(image, model, { tile = 128, pad = 16, onProgress } = {}) {
  const img = image instanceof Blob ? await decode(image) : await decode(await (await fetch(image)).blob());
  const s = await session(model, typeof model === 'string' ? model : `bytes:${model.length}:${model[100]}`);
  return upscaleRgba(ort, s, img.rgba, img.width, img.height, { tile, pad, onProgress });
}
window.mpfnetExample = { upscale, ort };

function show(result) {
  const after = $('after');
  after.width = result.width;
  after.height = result.height;
  after.getContext('2d').putImageData(new ImageData(result.rgba, result.width, result.height), 0, 0);
  const before = $('before');
  before.width = result.width;
  before.height = result.height;
  const g = before.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(input.bitmap, 0, 0, result.width, result.height);
  $('compare').hidden = false;
  const clip = () => (before.style.clipPath = `inset(0 ${100 - Number($('slider').value)}% 0 0)`);
  $('slider').oninput = clip;
  clip();
  after.toBlob((blob) => ($('download').href = URL.createObjectURL(blob)), 'image/png');
}

async function setImage(blob) {
  input = await decode(blob);
  $('status').textContent = `image ${input.width}×${input.height}`;
  $('run').disabled = false;
}

async function run() {
  $('run').disabled = true;
  try {
    const file = $('model-file').files[0];
    const model = file ? new Uint8Array(await file.arrayBuffer()) : $('model').value;
    if (!model) throw new Error('choose a model (.onnx) first');
    const t0 = performance.now();
    const s = await session(model, file ? `file:${file.name}:${file.size}` : model);
    const result = await upscaleRgba(ort, s, input.rgba, input.width, input.height, {
      tile: Number($('tile').value),
      pad: Number($('pad').value),
      onProgress: (done, total) => {
        $('progress').max = total;
        $('progress').value = done;
        $('status').textContent = `tile ${done} / ${total}`;
      },
    });
    $('status').textContent = `${input.width}×${input.height} → ${result.width}×${result.height} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    show(result);
  } catch (e) {
    $('status').textContent = `error: ${e.message ?? e}`;
  } finally {
    $('run').disabled = false;
  }
}

async function init() {
  // The models `mpfnet serve-example --models <dir>` serves (none is fine: a file can be picked).
  const models = await fetch('/models/index.json').then((r) => (r.ok ? r.json() : []), () => []);
  for (const m of models) $('model').add(new Option(m.name, m.url));
  if (!models.length) $('model').add(new Option('(none served: pick an .onnx file)', ''));
  $('image-file').onchange = () => $('image-file').files[0] && setImage($('image-file').files[0]);
  $('sample').onclick = async () => setImage(await (await fetch('/photos/chelsea.png')).blob());
  $('run').onclick = run;
  const drop = $('drop');
  drop.ondragover = (e) => (e.preventDefault(), drop.classList.add('over'));
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f?.name.endsWith('.onnx')) {
      const dt = new DataTransfer();
      dt.items.add(f);
      $('model-file').files = dt.files;
    } else if (f) setImage(f);
  };
  document.body.dataset.ready = 'true';
}
init();
