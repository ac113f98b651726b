// The CPU twin of kernels/wgsl/augment.wgsl. Training calls it when it is not on WebGPU, so it
// is written for speed: plain loops over typed arrays, one inverse map per image.
import { checkAugmentBatch, eraseBox, inverseMapping, type AugmentParams } from './augment-params.ts';
import { OUT_PIXELS, OUT_SIDE } from './preprocess.ts';

const LAST = OUT_SIDE - 1;

/**
 * Same as augment() but on the CPU: bilinear, edge-clamped inverse mapping, then gain/offset,
 * clamped to [0, 1], then the erase rectangle if any.
 */
export function augmentReference(input: Float32Array, params: readonly AugmentParams[]): Float32Array {
  const n = checkAugmentBatch(input.length, params);
  const out = new Float32Array(n * OUT_PIXELS);
  for (let i = 0; i < n; i++) {
    const { a, b, c, d, tx, ty, gain, offset } = inverseMapping(params[i], i);
    const {
      box: [ex0, ey0, ex1, ey1],
      value: fill,
    } = eraseBox(params[i], i);
    const base = i * OUT_PIXELS;
    for (let y = 0; y < OUT_SIDE; y++) {
      for (let x = 0; x < OUT_SIDE; x++) {
        const u = a * x + b * y + tx;
        const v = c * x + d * y + ty;
        const fu = Math.floor(u);
        const fv = Math.floor(v);
        const fx = u - fu;
        const fy = v - fv;
        // Edge-clamp each tap, as the kernel does.
        const x0 = fu < 0 ? 0 : fu > LAST ? LAST : fu;
        const x1 = fu + 1 < 0 ? 0 : fu + 1 > LAST ? LAST : fu + 1;
        const r0 = base + (fv < 0 ? 0 : fv > LAST ? LAST : fv) * OUT_SIDE;
        const r1 = base + (fv + 1 < 0 ? 0 : fv + 1 > LAST ? LAST : fv + 1) * OUT_SIDE;
        const top = input[r0 + x0] * (1 - fx) + input[r0 + x1] * fx;
        const bottom = input[r1 + x0] * (1 - fx) + input[r1 + x1] * fx;
        const value = (top * (1 - fy) + bottom * fy) * gain + offset;
        out[base + y * OUT_SIDE + x] = value < 0 ? 0 : value > 1 ? 1 : value;
      }
    }
    for (let y = ey0; y < ey1; y++) out.fill(fill, base + y * OUT_SIDE + ex0, base + y * OUT_SIDE + ex1);
  }
  return out;
}
