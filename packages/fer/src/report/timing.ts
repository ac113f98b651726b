// Inference time per face: the median of timed runs after warm-up runs (which compile shaders
// on webgpu and fill caches on wasm), divided by the batch size.
import { IMAGE_BYTES } from '../data/format.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `batch` images taken in order from `pixels` (n × 2304 bytes), cycling when n < batch. */
export function batchOf(pixels: Uint8Array, batch: number): Uint8Array {
  const n = pixels.length / IMAGE_BYTES;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`batchOf: need at least one 48x48 image, got ${pixels.length} bytes`);
  const out = new Uint8Array(batch * IMAGE_BYTES);
  for (let i = 0; i < batch; i++)
    out.set(pixels.subarray((i % n) * IMAGE_BYTES, ((i % n) + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
  return out;
}

export interface TimingPlan {
  runs: number;
  warmup: number;
}

/** Median milliseconds per image of `predict` over a batch of `batch` images. */
export async function msPerFace(
  predict: (pixels: Uint8Array) => Promise<unknown>,
  images: Uint8Array,
  batch: number,
  plan: TimingPlan,
): Promise<number> {
  const input = batchOf(images, batch);
  for (let i = 0; i < plan.warmup; i++) await predict(input);
  const times: number[] = [];
  for (let i = 0; i < plan.runs; i++) {
    const start = performance.now();
    await predict(input);
    times.push(performance.now() - start);
  }
  return median(times) / batch;
}
