// The CPU twin of kernels/wgsl/preprocess.wgsl: same inputs, same checks, same math (in
// float64). Tests pit the two against each other; CPU-only code paths may call it directly.
import {
  checkCrops,
  normalization,
  OUT_PIXELS,
  OUT_SIDE,
  type FaceCrop,
  type NormalizeOptions,
} from './preprocess.ts';

/** One output pixel's taps along one axis, weights already divided by their sum. */
interface Taps {
  index: number[];
  weight: number[];
}

// Box filter over the exact footprint when shrinking, bilinear when enlarging: see preprocess.wgsl.
function axisTaps(start: number, len: number, size: number): Taps[] {
  const s = len / OUT_SIDE;
  const pmin = Math.floor(start);
  const pmax = Math.max(pmin, Math.min(Math.ceil(start + len), size) - 1);
  const clampIndex = (i: number) => Math.min(Math.max(i, pmin), pmax);
  const taps: Taps[] = [];
  for (let o = 0; o < OUT_SIDE; o++) {
    const index: number[] = [];
    const weight: number[] = [];
    if (s > 1) {
      const lo = start + o * s;
      const hi = Math.min(start + (o + 1) * s, start + len);
      for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
        index.push(clampIndex(i));
        weight.push((Math.min(i + 1, hi) - Math.max(i, lo)) / (hi - lo));
      }
    } else {
      const c = start + (o + 0.5) * s - 0.5;
      const first = Math.floor(c);
      const frac = c - first;
      index.push(clampIndex(first), clampIndex(first + 1));
      weight.push(1 - frac, frac);
    }
    taps.push({ index, weight });
  }
  return taps;
}

/** Same as preprocess() but on the CPU, returning the [N, 48, 48, 1] tensor's data. */
export function preprocessReference(crops: readonly FaceCrop[], opts: NormalizeOptions = {}): Float32Array {
  const checked = checkCrops(crops, opts);
  const { scale, bias } = normalization(opts);
  const out = new Float32Array(checked.length * OUT_PIXELS);
  checked.forEach(({ width, height, stride, rgba, rect }, n) => {
    const xs = axisTaps(rect.x, rect.w, width);
    const ys = axisTaps(rect.y, rect.h, height);
    // Separable: resample each covered row horizontally, then the 48 columns vertically.
    const y0 = Math.floor(rect.y);
    const rows = Math.max(y0, Math.min(Math.ceil(rect.y + rect.h), height) - 1) - y0 + 1;
    const tmp = new Float64Array(rows * OUT_SIDE);
    for (let r = 0; r < rows; r++) {
      const rowStart = (y0 + r) * stride * 4;
      for (let ox = 0; ox < OUT_SIDE; ox++) {
        const { index, weight } = xs[ox];
        let sum = 0;
        for (let t = 0; t < index.length; t++) {
          const p = rowStart + index[t] * 4;
          sum += weight[t] * (0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]);
        }
        tmp[r * OUT_SIDE + ox] = sum / 255;
      }
    }
    const base = n * OUT_PIXELS;
    for (let oy = 0; oy < OUT_SIDE; oy++) {
      const { index, weight } = ys[oy];
      for (let ox = 0; ox < OUT_SIDE; ox++) {
        let sum = 0;
        for (let t = 0; t < index.length; t++) sum += weight[t] * tmp[(index[t] - y0) * OUT_SIDE + ox];
        out[base + oy * OUT_SIDE + ox] = sum * scale + bias;
      }
    }
  });
  return out;
}
