// Training-time augmentation of a batch of 48x48 images on the GPU, in one dispatch.
// The math is in kernels/wgsl/augment.wgsl; augment-reference.ts does the same on the CPU.
import { checkAugmentBatch, eraseBox, inverseMapping, type AugmentParams } from './augment-params.ts';
import type { GpuContext } from './device.ts';
import { createComputeKernel, createOutputBuffer, dispatch, uploadBuffer } from './kernel.ts';
import type { BytesMoved } from './preprocess.ts';
import { OUT_PIXELS } from './preprocess.ts';

/** Floats in one Sample record of augment.wgsl (13 used, padded to the struct's 64 bytes). */
const SAMPLE_RECORD_FLOATS = 16;
const SAMPLE_RECORD_BYTES = SAMPLE_RECORD_FLOATS * 4;

/**
 * The kernel's per-sample records: inverse map (a, b, c, d, tx, ty), gain, offset, the erase
 * box (x0, y0, x1, y1; empty where none) and its grey.
 */
export function packAugmentParams(params: readonly AugmentParams[]): Float32Array {
  const records = new Float32Array(params.length * SAMPLE_RECORD_FLOATS);
  params.forEach((p, i) => {
    const m = inverseMapping(p, i);
    const e = eraseBox(p, i);
    records.set(
      [m.a, m.b, m.c, m.d, m.tx, m.ty, m.gain, m.offset, ...e.box, e.value],
      i * SAMPLE_RECORD_FLOATS,
    );
  });
  return records;
}

/** The bytes one augment call moves (see augment.wgsl). */
export function augmentBytesMoved(n: number, inputOnGpu = true): BytesMoved {
  const image = OUT_PIXELS * 4;
  return {
    upload: n * SAMPLE_RECORD_BYTES + (inputOnGpu ? 0 : n * image),
    read: n * (image + SAMPLE_RECORD_BYTES),
    written: n * image,
  };
}

function augmentKernel(gpu: GpuContext) {
  return gpu.memo('augment', (device) =>
    createComputeKernel(device, 'augment', ['read-only-storage', 'read-only-storage', 'storage']),
  );
}

/**
 * Augments params.length images of `input` ([N, 48, 48, 1] float32, on the GPU or not) into a
 * new buffer the caller owns (usable as a tfjs zero-copy tensor).
 */
export async function augment(
  gpu: GpuContext,
  input: GPUBuffer | Float32Array,
  params: readonly AugmentParams[],
): Promise<GPUBuffer> {
  const device = gpu.device;
  const inputFloats = input instanceof Float32Array ? input.length : Math.floor(input.size / 4);
  const n = checkAugmentBatch(inputFloats, params);
  const records = packAugmentParams(params);
  const kernel = await augmentKernel(gpu);

  const images =
    input instanceof Float32Array
      ? uploadBuffer(device, input, GPUBufferUsage.STORAGE, 'augment input')
      : input;
  const samples = uploadBuffer(device, records, GPUBufferUsage.STORAGE, 'augment samples');
  const output = createOutputBuffer(device, n * OUT_PIXELS * 4, 'augment output');
  try {
    await dispatch(device, kernel, [images, samples, output], [Math.ceil(OUT_PIXELS / 64), n, 1]);
  } catch (err) {
    output.destroy();
    throw err;
  } finally {
    samples.destroy();
    if (images !== input) images.destroy();
  }
  return output;
}
