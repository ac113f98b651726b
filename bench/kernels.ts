// The WGSL kernels against their TypeScript references, side by side, with the bytes each
// kernel moves (so a later GPU run can be compared with its memory bandwidth).
import {
  augment,
  augmentBytesMoved,
  augmentParams,
  augmentReference,
  createGpu,
  preprocess,
  preprocessBytesMoved,
  preprocessReference,
  readFloat32,
  type FaceCrop,
} from '@affect/gpu';
import { median, table, timeRuns, writeResult } from './stats.ts';
import { mulberry32 } from '@affect/gpu';

function randomCrops(n: number, side: number, seed: number): FaceCrop[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const rgba = new Uint8Array(side * side * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = Math.floor(rand() * 256);
    return { width: side, height: side, rgba };
  });
}

export async function benchKernels(runs = 7) {
  const gpu = await createGpu();
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const [n, side] of [
      [1, 160],
      [32, 160],
      [64, 320],
    ] as const) {
      const crops = randomCrops(n, side, n * side);
      const gpuMs = median(
        await timeRuns(async () => {
          const r = await preprocess(gpu, crops);
          await readFloat32(gpu, r.buffer, r.n * 2304);
          r.buffer.destroy();
        }, runs),
      );
      const refMs = median(await timeRuns(() => preprocessReference(crops), runs));
      const bytes = preprocessBytesMoved(crops);
      rows.push({
        kernel: `preprocess ${n}x${side}²`,
        gpuMs,
        refMs,
        ratio: refMs / gpuMs,
        mb: (bytes.upload + bytes.read + bytes.written) / 1e6,
      });
    }
    for (const n of [64, 256]) {
      const rand = mulberry32(n);
      const input = Float32Array.from({ length: n * 2304 }, () => rand());
      const params = augmentParams(n, 7);
      const gpuMs = median(
        await timeRuns(async () => {
          const out = await augment(gpu, input, params);
          await readFloat32(gpu, out, n * 2304);
          out.destroy();
        }, runs),
      );
      const refMs = median(await timeRuns(() => augmentReference(input, params), runs));
      const bytes = augmentBytesMoved(n, false);
      rows.push({
        kernel: `augment ${n}x48²`,
        gpuMs,
        refMs,
        ratio: refMs / gpuMs,
        mb: (bytes.upload + bytes.read + bytes.written) / 1e6,
      });
    }
  } finally {
    gpu.destroy();
  }
  console.log(
    `WGSL kernels on ${gpu.report.description} (${gpu.report.software ? 'software' : 'hardware'}) vs TypeScript reference, median of ${runs}, GPU times include upload and read-back`,
  );
  console.log(
    table(
      ['kernel', 'GPU ms', 'TS ms', 'TS/GPU', 'MB moved'],
      rows.map((r) => [
        r.kernel as string,
        r.gpuMs as number,
        r.refMs as number,
        `${(r.ratio as number).toFixed(2)}x`,
        r.mb as number,
      ]),
    ),
  );
  console.log(`wrote ${writeResult('kernels', { adapter: gpu.report, rows })}`);
}
