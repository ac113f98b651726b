// Face crops → the models' input tensor [N, 48, 48, 1], on the GPU in one dispatch.
// The math is in kernels/wgsl/preprocess.wgsl; preprocess-reference.ts does the same on the CPU.
import type { GpuContext } from './device.ts';
import {
  createComputeKernel,
  createOutputBuffer,
  dispatch,
  KernelInputError,
  uploadBuffer,
} from './kernel.ts';

export const OUT_SIDE = 48;
export const OUT_PIXELS = OUT_SIDE * OUT_SIDE;
/** Larger crops are rejected: a face this big is downscaled by the detector's caller first. */
export const MAX_CROP_SIDE = 1024;
/** One dispatch's y extent, and 72 MiB of output: far above a real-time batch. */
export const MAX_BATCH = 8192;
/** Source pixels per axis one output pixel can touch at the largest shrink (+1 for a partial edge). */
const MAX_TAPS = Math.ceil(MAX_CROP_SIDE / OUT_SIDE) + 1;
const CROP_RECORD_BYTES = 32;

/** A source rectangle in crop pixels; fractional edges are allowed (detector boxes are fractional). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FaceCrop {
  width: number;
  height: number;
  /** RGBA8, `height` rows of `stride` pixels (alpha is ignored). */
  rgba: Uint8Array | Uint8ClampedArray;
  /** Pixels per row, when the rows are padded; default `width`. */
  stride?: number;
  /** The part of the crop to resample; default the whole crop. */
  rect?: Rect;
}

/** out = (luma - mean) / std; by default luma in [0, 1] as is. */
export interface NormalizeOptions {
  mean?: number;
  std?: number;
}

export interface PreprocessOptions extends NormalizeOptions {
  /** Write here instead of a new buffer (needs STORAGE usage and n * 9216 bytes). */
  output?: GPUBuffer;
}

export interface PreprocessResult {
  /** n * 48 * 48 float32, NHWC; owned by the caller (destroy it when done). */
  buffer: GPUBuffer;
  n: number;
  shape: [number, number, number, number];
}

/** A crop after validation, with its defaults filled in. */
export interface CheckedCrop {
  width: number;
  height: number;
  stride: number;
  rgba: Uint8Array | Uint8ClampedArray;
  rect: Rect;
}

function fail(code: string, message: string): never {
  throw new KernelInputError(code, message);
}

const isSide = (v: number) => Number.isInteger(v) && v >= 1 && v <= MAX_CROP_SIDE;

/** Checks every rule the kernel relies on; the reference applies the same checks. */
export function checkCrops(crops: readonly FaceCrop[], opts: NormalizeOptions = {}): CheckedCrop[] {
  if (crops.length === 0) fail('empty-batch', 'preprocess: the batch is empty; pass at least one crop');
  if (crops.length > MAX_BATCH) {
    fail(
      'batch-too-large',
      `preprocess: ${crops.length} crops, over MAX_BATCH (${MAX_BATCH}); split the batch`,
    );
  }
  const { mean = 0, std = 1 } = opts;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) {
    fail('bad-normalization', `preprocess: mean must be finite and std finite and > 0 (got ${mean}, ${std})`);
  }
  return crops.map((crop, i) => {
    const { width, height } = crop;
    if (!isSide(width) || !isSide(height)) {
      fail(
        'crop-size',
        `preprocess: crop ${i} is ${width}x${height}; sides must be integers in 1..${MAX_CROP_SIDE} ` +
          '(downscale larger faces before preprocessing)',
      );
    }
    const stride = crop.stride ?? width;
    if (!Number.isInteger(stride) || stride < width || stride > MAX_CROP_SIDE) {
      fail(
        'crop-stride',
        `preprocess: crop ${i} has stride ${stride}; it must be an integer in ${width}..${MAX_CROP_SIDE}`,
      );
    }
    if (crop.rgba.length !== stride * height * 4) {
      fail(
        'rgba-length',
        `preprocess: crop ${i} has ${crop.rgba.length} RGBA bytes; ${stride}x${height} pixels need ${stride * height * 4}`,
      );
    }
    const rect = crop.rect ?? { x: 0, y: 0, w: width, h: height };
    const { x, y, w, h } = rect;
    if (
      ![x, y, w, h].every(Number.isFinite) ||
      w <= 0 ||
      h <= 0 ||
      x < 0 ||
      y < 0 ||
      x + w > width ||
      y + h > height
    ) {
      fail(
        'rect-outside-crop',
        `preprocess: crop ${i} rect {x: ${x}, y: ${y}, w: ${w}, h: ${h}} must have w, h > 0 and lie inside the ` +
          `${width}x${height} crop`,
      );
    }
    return { width, height, stride, rgba: crop.rgba, rect };
  });
}

/** Scale and bias the kernel applies to luma in [0, 1]. */
export function normalization(opts: NormalizeOptions): { scale: number; bias: number } {
  const { mean = 0, std = 1 } = opts;
  return { scale: 1 / std, bias: -mean / std };
}

export interface BytesMoved {
  /** Host → GPU: the packed pixels, the crop records and the parameters. */
  upload: number;
  /** Kernel reads from global memory, each source pixel the rectangles cover once. */
  read: number;
  /** Kernel writes: the output tensor. */
  written: number;
}

/** The bytes one preprocess call moves (see preprocess.wgsl); benchmarks compare against it. */
export function preprocessBytesMoved(crops: readonly FaceCrop[]): BytesMoved {
  let upload = 16;
  let read = 0;
  for (const crop of crops) {
    const { x = 0, y = 0, w = crop.width, h = crop.height } = crop.rect ?? {};
    upload += (crop.stride ?? crop.width) * crop.height * 4 + CROP_RECORD_BYTES;
    read += (Math.ceil(x + w) - Math.floor(x)) * (Math.ceil(y + h) - Math.floor(y)) * 4 + CROP_RECORD_BYTES;
  }
  return { upload, read, written: crops.length * OUT_PIXELS * 4 };
}

function preprocessKernel(gpu: GpuContext) {
  return gpu.memo('preprocess', (device) =>
    createComputeKernel(
      device,
      'preprocess',
      ['read-only-storage', 'read-only-storage', 'uniform', 'storage'],
      {
        MAX_TAPS,
      },
    ),
  );
}

/** Runs preprocess.wgsl on the batch; resolves once the work is submitted and validated. */
export async function preprocess(
  gpu: GpuContext,
  crops: readonly FaceCrop[],
  opts: PreprocessOptions = {},
): Promise<PreprocessResult> {
  const checked = checkCrops(crops, opts);
  const n = checked.length;
  const device = gpu.device;
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  const pixelBytes = checked.reduce((sum, c) => sum + c.stride * c.height * 4, 0);
  if (pixelBytes > maxBinding) {
    fail(
      'batch-too-large',
      `preprocess: the crops hold ${pixelBytes} bytes, over this device's maxStorageBufferBindingSize ` +
        `(${maxBinding}); split the batch`,
    );
  }
  const outBytes = n * OUT_PIXELS * 4;
  if (opts.output && (opts.output.size < outBytes || !(opts.output.usage & GPUBufferUsage.STORAGE))) {
    fail(
      'bad-output',
      `preprocess: output buffer needs STORAGE usage and ${outBytes} bytes (has ${opts.output.size})`,
    );
  }
  const kernel = await preprocessKernel(gpu);

  // Crops go straight from their own arrays into one GPU buffer: no packed copy on the CPU.
  const pixels = device.createBuffer({
    label: 'preprocess pixels',
    size: Math.max(4, pixelBytes),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const records = new ArrayBuffer(n * CROP_RECORD_BYTES);
  let offset = 0;
  checked.forEach((crop, i) => {
    device.queue.writeBuffer(
      pixels,
      offset * 4,
      crop.rgba.buffer,
      crop.rgba.byteOffset,
      crop.rgba.byteLength,
    );
    new Uint32Array(records, i * CROP_RECORD_BYTES, 4).set([offset, crop.width, crop.height, crop.stride]);
    new Float32Array(records, i * CROP_RECORD_BYTES + 16, 4).set([
      crop.rect.x,
      crop.rect.y,
      crop.rect.w,
      crop.rect.h,
    ]);
    offset += crop.stride * crop.height;
  });
  const meta = uploadBuffer(device, new Uint8Array(records), GPUBufferUsage.STORAGE, 'preprocess crops');
  const { scale, bias } = normalization(opts);
  const params = uploadBuffer(
    device,
    new Float32Array([scale, bias, 0, 0]),
    GPUBufferUsage.UNIFORM,
    'preprocess params',
  );
  const buffer = opts.output ?? createOutputBuffer(device, outBytes, 'preprocess output');

  try {
    await dispatch(device, kernel, [pixels, meta, params, buffer], [Math.ceil(OUT_PIXELS / 64), n, 1]);
  } catch (err) {
    if (buffer !== opts.output) buffer.destroy();
    throw err;
  } finally {
    // Destroying after submit is safe: WebGPU frees them once the queued work is done.
    for (const temp of [pixels, meta, params]) temp.destroy();
  }
  return { buffer, n, shape: [n, OUT_SIDE, OUT_SIDE, 1] };
}
