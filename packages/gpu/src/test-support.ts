// Shared by the GPU tests: a context on the real adapter (or a clear skip outside CI), seeded
// random inputs, and NaN-poisoned output buffers that show any element a kernel forgot to write.
import { createGpu, GpuUnavailableError, type GpuContext, type GpuOptions } from './device.ts';
import { mulberry32 } from './augment-params.ts';
import type { FaceCrop, Rect } from './preprocess.ts';

/** A context, or null (with a warning) when this machine has no adapter; in CI that is a failure. */
export async function gpuForTests(options: GpuOptions = {}): Promise<GpuContext | null> {
  try {
    return await createGpu(options);
  } catch (err) {
    if (!(err instanceof GpuUnavailableError)) throw err;
    if (process.env.CI === 'true') {
      throw new Error(`GPU tests may not be skipped in CI, and no adapter was found: ${err.message}`);
    }
    console.warn(`[@affect/gpu tests] SKIPPED, no WebGPU adapter on this machine: ${err.message}`);
    return null;
  }
}

export type Random = () => number;

export function seeded(seed: number): Random {
  return mulberry32(seed);
}

export function randomInt(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

export function randomCrop(
  random: Random,
  width: number,
  height: number,
  extra: { stride?: number; rect?: Rect } = {},
): FaceCrop {
  const stride = extra.stride ?? width;
  const rgba = new Uint8Array(stride * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = Math.floor(random() * 256);
  return { width, height, rgba, ...extra };
}

/** A rectangle with fractional edges somewhere inside a width x height crop. */
export function randomRect(random: Random, width: number, height: number): Rect {
  const w = Math.max(0.25, random() * width);
  const h = Math.max(0.25, random() * height);
  return { x: random() * (width - w), y: random() * (height - h), w, h };
}

export function randomImages(random: Random, floats: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: floats }, () => random());
}

/** An output buffer full of NaN, so unwritten elements stay visible after the kernel. */
export function poisonedBuffer(device: GPUDevice, floats: number): GPUBuffer {
  const buffer = device.createBuffer({
    size: floats * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange()).fill(Number.NaN);
  buffer.unmap();
  return buffer;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity; // NaN would compare false below and slip through
    if (d > max) max = d;
  }
  return max;
}

export function countNaN(a: Float32Array): number {
  let n = 0;
  for (const v of a) if (Number.isNaN(v)) n++;
  return n;
}
