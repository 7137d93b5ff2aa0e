// Tiled super-resolution of an RGBA image with an exported MPF-Net in onnxruntime-web. The tiles
// and their blending are mpfnet's own (lib/infer/tiles.ts and blend.ts, served at /mpfnet/), so
// the page's result matches `mpfnet upscale` with the same --tile and --tile-pad.
import { BandAccumulator } from '/mpfnet/blend.js';
import { defaultMargin, planTiles } from '/mpfnet/tiles.js';

/** Planar RGB floats in [0, 1] of the window (y0, x0, h, w) of an RGBA image. */
function windowRgb(rgba, width, y0, x0, h, w) {
  const out = new Float32Array(3 * h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * width + x0 + x) * 4;
      const q = y * w + x;
      out[q] = rgba[p] / 255;
      out[h * w + q] = rgba[p + 1] / 255;
      out[2 * h * w + q] = rgba[p + 2] / 255;
    }
  return out;
}

/**
 * Upscale `rgba` (Uint8ClampedArray, width × height × 4) with `session` (an ort.InferenceSession of
 * an exported model: input "input", output "output"). Returns {width, height, rgba} of the result
 * (opaque). onProgress(done, total) runs after each tile.
 */
export async function upscaleRgba(ort, session, rgba, width, height, { tile = 128, pad = 16, onProgress = () => {} } = {}) {
  const plan = planTiles(height, width, tile, pad);
  const th = plan.rows.window;
  const tw = plan.cols.window;
  let acc = null;
  let out = null;
  let row = 0;
  let done = 0;
  for (let i = 0; i < plan.rows.starts.length; i++)
    for (let j = 0; j < plan.cols.starts.length; j++) {
      const x = windowRgb(rgba, width, plan.rows.starts[i], plan.cols.starts[j], th, tw);
      const result = await session.run({ input: new ort.Tensor('float32', x, [1, 3, th, tw]) });
      const y = result.output;
      if (!acc) {
        // The model's scale, from the first tile: the page needs no metadata reader.
        const scale = y.dims[2] / th;
        const W = width * scale;
        out = { width: W, height: height * scale, rgba: new Uint8ClampedArray(W * height * scale * 4).fill(255) };
        acc = new BandAccumulator(plan, scale, 3, defaultMargin(pad, scale), {
          write(rows, n) {
            // Planar rows -> RGBA, rounded like mpfnet's 8-bit output (the model clamps to [0, 1]).
            for (let c = 0; c < 3; c++)
              for (let r = 0; r < n; r++) {
                const src = (c * n + r) * W;
                let dst = (row + r) * W * 4 + c;
                for (let k = 0; k < W; k++, dst += 4) {
                  const v = rows[src + k] * 255;
                  out.rgba[dst] = v > 0 ? (v < 255 ? Math.floor(v + 0.5) : 255) : 0;
                }
              }
            row += n;
          },
        });
      }
      acc.add(i, j, y.data);
      y.dispose?.();
      onProgress(++done, plan.count);
    }
  return out;
}
