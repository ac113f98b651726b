// Training throughput on one core: our wasm path (forward-conv gradients, leading-axis sums
// as matrix products, fast batch-norm gradient) against tfjs's pure-JS cpu backend, same
// model, same batch, side by side. Each architecture is built as it ships (the width and view
// of models/<arch>/training.json's recipe), else at its default.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../packages/fer/src/tfjs/tf.ts';
import { registerWasmConvGradients } from '../packages/fer/src/tfjs/wasm-gradients.ts';
import { registerFastBatchNormGradient } from '../packages/fer/src/tfjs/batchnorm-gradient.ts';
import { registerWasmFastReductions } from '../packages/fer/src/tfjs/wasm-fast-kernels.ts';
import {
  ARCHS,
  buildModel,
  DEFAULT_WIDTH,
  type Arch,
  type ArchOptions,
} from '../packages/fer/src/models/architectures.ts';
import { DEFAULT_MODELS_DIR } from '../packages/fer/src/models/registry.ts';
import { readJson, type RunRecord } from '../packages/fer/src/train/origin.ts';
import { countMacs } from '../packages/fer/src/models/flops.ts';
import { median, table, timeRuns, writeResult } from './stats.ts';

const BATCH = 8;

/** The network as shipped: its recipe's width and view, where models/<arch> has a training record. */
export async function shippedOptions(arch: Arch, modelsDir = DEFAULT_MODELS_DIR): Promise<ArchOptions> {
  const path = join(modelsDir, arch, 'training.json');
  const recipe = existsSync(path) ? (await readJson<RunRecord>(path)).recipe : undefined;
  return { numClasses: 4, seed: 1, width: recipe?.width ?? DEFAULT_WIDTH[arch], view: recipe?.view };
}

async function stepTimes(arch: Arch, backend: 'wasm' | 'cpu', runs: number): Promise<number[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  const model = buildModel(arch, await shippedOptions(arch));
  const x = tf.randomUniform([BATCH, 48, 48, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => i % 4),
      'int32',
    ),
    4,
  );
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = async () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
      vars,
    );
    await loss!.data();
    loss!.dispose();
  };
  const times = await timeRuns(step, runs, 1);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return times;
}

export async function benchTrainStep(archs: readonly Arch[] = ARCHS, cpuRuns = 1, wasmRuns = 5) {
  await tf.ready();
  // Gradient registrations are per backend (conv kernels) or global (batch-norm), so the cpu
  // backend below runs tfjs's own gradients except for the batch-norm one, which is the
  // same math (tested) and only avoids a tile.
  await tf.setBackend('wasm');
  registerWasmConvGradients();
  registerWasmFastReductions();
  registerFastBatchNormGradient();
  const rows: Array<Record<string, number | string>> = [];
  for (const arch of archs) {
    const options = await shippedOptions(arch);
    const counted = buildModel(arch, options);
    const macs = countMacs(counted);
    counted.dispose();
    const wasm = median(await stepTimes(arch, 'wasm', wasmRuns));
    const cpu = median(await stepTimes(arch, 'cpu', cpuRuns));
    rows.push({
      arch,
      ...(options.width !== undefined ? { width: options.width } : {}),
      ...(options.view !== undefined ? { view: options.view } : {}),
      mmacs: macs / 1e6,
      wasmImgPerSec: (BATCH / wasm) * 1000,
      cpuImgPerSec: (BATCH / cpu) * 1000,
      speedup: cpu / wasm,
    });
  }
  console.log(
    `training step, batch ${BATCH}, one thread (median of ${wasmRuns} wasm / ${cpuRuns} cpu steps)`,
  );
  console.log(
    table(
      ['arch', 'width', 'MMAC/img', 'wasm img/s', 'cpu img/s', 'wasm/cpu'],
      rows.map((r) => [
        (r.arch as string) + (r.view === 'gradients' ? ' (gradients)' : ''),
        r.width === undefined ? '–' : String(r.width),
        r.mmacs as number,
        r.wasmImgPerSec as number,
        r.cpuImgPerSec as number,
        `${(r.speedup as number).toFixed(1)}x`,
      ]),
    ),
  );
  console.log(`wrote ${writeResult('train-step', { batch: BATCH, rows })}`);
}
