// The check for a machine with a real GPU, as one script that needs no npm install there:
// the WGSL kernels against their TypeScript references on random inputs on that adapter,
// their timings (bench/kernels.ts), and how fast the shipped networks train on WebGPU (the
// path of `fer train --backend webgpu`: one replica, WGSL augmentation, gradient and update
// steps). Bundle it with `node bench/gpu-bundle.mjs` (bench/README.md) and run it from the repo
// root; it prints tables and writes JSON to the path given as its first argument.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  augment,
  augmentParams,
  augmentReference,
  createGpu,
  mulberry32,
  preprocess,
  preprocessReference,
  readFloat32,
  type FaceCrop,
} from '@affect/gpu';
import { ARCHS } from '../packages/fer/src/models/architectures.ts';
import { createReplica } from '../packages/fer/src/train/worker.ts';
import { timeShippedModels } from '../packages/fer/src/report/report.ts';
import { maxAbsDiff, randomCrop, randomInt } from '../packages/gpu/src/test-support.ts';
import { benchKernels } from './kernels.ts';
import { median, table } from './stats.ts';
import { shippedOptions } from './train-step.ts';

const out = process.argv[2] ?? 'gpu-check.json';
const allowSoftware = process.argv.includes('--allow-software');
/** The value after `name` on the command line (`--steps 2`, `--archs cnn,vgg16`). */
function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
const archs = (flag('--archs')?.split(',') ?? ARCHS) as readonly (typeof ARCHS)[number][];
const TOLERANCE = 1e-4;

/** n crops of random sizes from 24 to 323 pixels a side, random RGBA. */
function randomCrops(n: number, rand: () => number): FaceCrop[] {
  return Array.from({ length: n }, () =>
    randomCrop(rand, randomInt(rand, 24, 323), randomInt(rand, 24, 323)),
  );
}

const gpu = await createGpu();
console.log(`adapter: ${JSON.stringify(gpu.report)}`);
if (gpu.report.software && !allowSoftware) {
  gpu.destroy();
  throw new Error(
    'this adapter is a software one: the check is for a real GPU (--allow-software to run anyway)',
  );
}
const checks: Array<{ kernel: string; maxAbsDiff: number; ok: boolean }> = [];
const rand = mulberry32(20261204);
for (const n of [1, 7, 64]) {
  const crops = randomCrops(n, rand);
  const r = await preprocess(gpu, crops);
  const got = await readFloat32(gpu, r.buffer, r.n * 2304);
  r.buffer.destroy();
  const d = maxAbsDiff(got, preprocessReference(crops));
  checks.push({ kernel: `preprocess ${n} random-size crops`, maxAbsDiff: d, ok: d < TOLERANCE });
}
for (const [n, erase] of [
  [64, 0],
  [256, 0.5],
] as const) {
  const input = Float32Array.from({ length: n * 2304 }, () => rand());
  const params = augmentParams(n, n + 11, { eraseProbability: erase });
  const buffer = await augment(gpu, input, params);
  const got = await readFloat32(gpu, buffer, n * 2304);
  buffer.destroy();
  const d = maxAbsDiff(got, augmentReference(input, params));
  checks.push({ kernel: `augment ${n} random images, erase ${erase}`, maxAbsDiff: d, ok: d < TOLERANCE });
}
gpu.destroy();
console.log(`\nWGSL kernels against their TypeScript references (tolerance ${TOLERANCE})`);
console.log(
  table(
    ['kernel', 'max |diff|', 'ok'],
    checks.map((c) => [c.kernel, c.maxAbsDiff.toExponential(2), String(c.ok)]),
  ),
);

console.log('');
if (!process.argv.includes('--no-timings')) await benchKernels();

// Training on WebGPU: one replica per network as shipped, batch 64, augmentation on.
const BATCH = Number(flag('--batch') ?? 64);
const STEPS = Number(flag('--steps') ?? 8);
const training: Array<Record<string, number | string>> = [];
for (const arch of archs) {
  const options = await shippedOptions(arch, resolve('models')); // run from the repo root
  const replica = await createReplica({
    type: 'init',
    workerIndex: 0,
    arch,
    numClasses: 4,
    seed: 1,
    ...(options.width !== undefined ? { width: options.width } : {}),
    ...(options.view !== undefined ? { view: options.view } : {}),
    freeze: 0,
    labelSmoothing: 0.1,
    weightDecay: 0.05,
    backend: 'webgpu',
  });
  const pixels = Uint8Array.from({ length: BATCH * 2304 }, () => Math.floor(rand() * 256));
  const labels = Uint8Array.from({ length: BATCH }, (_, i) => i % 4);
  const times: number[] = [];
  for (let s = 0; s < STEPS + 2; s++) {
    const t0 = performance.now();
    const g = await replica.grad({
      type: 'grad',
      pixels,
      labels,
      classWeights: [1, 1, 1, 1],
      augment: { seed: s, eraseProbability: 0 },
    });
    replica.apply(g.grads, 1e-3);
    if (s >= 2) times.push(performance.now() - t0); // the first steps compile the shaders
  }
  const ms = median(times);
  training.push({
    arch,
    width: options.width ?? '–',
    stepMs: ms,
    imgPerSec: (BATCH / ms) * 1000,
    epochMinutes: 14743 / ((BATCH / ms) * 1000) / 60,
  });
  replica.model.dispose();
}
console.log(`\ntraining on WebGPU, one replica, batch ${BATCH}, median of ${STEPS} steps after 2 warm-up`);
console.log(
  table(
    ['arch', 'width', 'ms/step', 'img/s', 'min/epoch'],
    training.map((r) => [
      r.arch as string,
      String(r.width),
      r.stepMs as number,
      r.imgPerSec as number,
      r.epochMinutes as number,
    ]),
  ),
);
// Inference as `fer report` times it (ms per face, batches 1 and 32), wasm and webgpu side by side.
const BATCHES = [1, 32];
const faces = Uint8Array.from({ length: 32 * 2304 }, () => Math.floor(rand() * 256));
const inference = process.argv.includes('--no-inference')
  ? []
  : await timeShippedModels(resolve('models'), faces, BATCHES, { wasm: 10, webgpu: 10 });
if (inference.length) {
  const [wasm, webgpu] = inference;
  console.log(`\ninference, ms per face (median of 10 runs): ${wasm.device} vs ${webgpu.device}`);
  console.log(
    table(
      ['model', 'wasm b1', 'webgpu b1', 'wasm/webgpu b1', 'wasm b32', 'webgpu b32', 'wasm/webgpu b32'],
      Object.keys(wasm.msPerFace).map((m) => {
        const w = wasm.msPerFace[m];
        const g = webgpu.msPerFace[m] ?? {};
        return [
          m,
          w[1],
          g[1] ?? NaN,
          `${(w[1] / g[1]).toFixed(2)}x`,
          w[32],
          g[32] ?? NaN,
          `${(w[32] / g[32]).toFixed(2)}x`,
        ];
      }),
    ),
  );
  for (const t of inference)
    for (const [m, e] of Object.entries(t.errors)) console.log(`${t.backend} ${m}: ${e}`);
  if (webgpu.skipped) console.log(`webgpu skipped: ${webgpu.skipped}`);
}
writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), adapter: gpu.report, checks, training, inference },
    null,
    1,
  ),
);
console.log(`wrote ${out}`);
if (checks.some((c) => !c.ok)) process.exitCode = 1;
