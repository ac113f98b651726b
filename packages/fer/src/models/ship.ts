// Shipping a trained model: copy a run's best epoch (or its SWA average) into models/<arch>/,
// as float16 when that costs at most 0.3 accuracy points on validation and test, with its
// metrics and training record beside it.
import { mkdtemp, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from './architectures.ts';
import { loadModel, readModelArtifacts, saveModel, MODEL_FILE, WEIGHTS_FILE } from './io.ts';
import { DEFAULT_MODELS_DIR } from './registry.ts';
import { evaluate, type EvalReport } from '../eval/evaluate.ts';
import { useCpuBackend } from '../eval/predict.ts';
import type { TrainState } from '../train/trainer.ts';
import { readJson, recipeOf, type RunRecord } from '../train/origin.ts';

export const METRICS_FILE = 'metrics.json';
export const TRAINING_FILE = 'training.json';
/** Largest accuracy loss (in points) accepted for float16 weights. */
export const FLOAT16_TOLERANCE_POINTS = 0.3;

export interface ShippedMetrics {
  arch: Arch;
  float16: boolean;
  /** Accuracy of the float32 weights, for the float16 decision. */
  float32: { test: number; validation: number };
  test: EvalReport;
  validation: EvalReport;
  shippedAt: string;
}

export interface ShipOptions {
  arch: Arch;
  runDir: string;
  dataDir: string;
  modelsDir?: string;
  /**
   * Which of the run's models ships: best/ (its best epoch on validation, the default) or swa/
   * (its latest SWA average), for an average that the ensemble uses better than the best epoch.
   */
  from?: ShipSource;
}

export const SHIP_SOURCES = ['best', 'swa'] as const;
export type ShipSource = (typeof SHIP_SOURCES)[number];

/**
 * training.json: a run's recipe (without its paths), epochs, time, curves and --init origin.
 * Its bestEpoch is the epoch of the shipped weights: the run's best, or `swaEpoch` where the
 * run's latest SWA average ships instead (marked shippedFrom 'swa').
 */
export function trainingRecordOf(state: TrainState, swaEpoch?: number): RunRecord {
  return {
    recipe: recipeOf(state.config),
    epochs: state.epoch,
    bestEpoch: swaEpoch ?? state.bestEpoch,
    ...(swaEpoch !== undefined ? { shippedFrom: 'swa' as const } : {}),
    trainSeconds: state.trainSeconds,
    history: state.history,
    ...(state.initFrom ? { initFrom: state.initFrom } : {}),
  };
}

async function evalBoth(
  dataDir: string,
  model: string,
): Promise<{ test: EvalReport; validation: EvalReport }> {
  const test = await evaluate({ dataDir, split: 'test', model, dedup: true });
  const validation = await evaluate({ dataDir, split: 'validation', model, dedup: true });
  return { test, validation };
}

export async function shipModel(o: ShipOptions): Promise<ShippedMetrics> {
  const modelsDir = o.modelsDir ?? DEFAULT_MODELS_DIR;
  const from = o.from ?? 'best';
  const sourceDir = join(o.runDir, from);
  const statePath = join(o.runDir, 'checkpoint', 'state.json');
  if (!existsSync(join(sourceDir, MODEL_FILE))) {
    throw new Error(
      from === 'swa'
        ? `no SWA average in ${sourceDir}: train the run with --swa <epochs> first`
        : `no trained model in ${sourceDir}: run fer train --arch ${o.arch} first`,
    );
  }
  await useCpuBackend();
  const metadata = (await readModelArtifacts(sourceDir)).metadata ?? {};
  if (metadata.arch !== undefined && metadata.arch !== o.arch) {
    throw new Error(`${sourceDir} holds a ${String(metadata.arch)} model, not ${o.arch}`);
  }
  const state = existsSync(statePath)
    ? await readJson<TrainState>(statePath)
    : undefined;
  const weightsEpoch = from === 'swa' ? swaEpochOf(metadata, sourceDir, state) : undefined;
  const f32 = await evalBoth(o.dataDir, sourceDir);
  const tmp = await mkdtemp(join(tmpdir(), `fer-ship-${o.arch}-`));
  try {
    const half = join(tmp, 'f16');
    const model = await loadModel(sourceDir);
    await saveModel(model, half, { float16: true, metadata: { ...metadata, arch: o.arch } });
    model.dispose();
    const f16 = await evalBoth(o.dataDir, half);
    const loss =
      Math.max(f32.test.accuracy - f16.test.accuracy, f32.validation.accuracy - f16.validation.accuracy) *
      100;
    const float16 = loss <= FLOAT16_TOLERANCE_POINTS;
    const chosen = float16 ? f16 : f32;
    const source = float16 ? half : sourceDir;
    const target = join(modelsDir, o.arch);
    await mkdir(target, { recursive: true });
    for (const f of [MODEL_FILE, WEIGHTS_FILE]) await copyFile(join(source, f), join(target, f));
    const metrics: ShippedMetrics = {
      arch: o.arch,
      float16,
      float32: { test: f32.test.accuracy, validation: f32.validation.accuracy },
      test: chosen.test,
      validation: chosen.validation,
      shippedAt: new Date().toISOString(),
    };
    await writeFile(join(target, METRICS_FILE), `${JSON.stringify(metrics, null, 1)}\n`);
    if (state) {
      const record = trainingRecordOf(state, weightsEpoch);
      await writeFile(join(target, TRAINING_FILE), `${JSON.stringify(record, null, 1)}\n`);
    }
    return metrics;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The epoch an SWA average was saved after, from its model.json metadata; where the run's
 * checkpoint is given, that epoch must be one of its SWA epochs (else the average and the record
 * beside it disagree, as after a run stopped between writing the two).
 */
export function swaEpochOf(metadata: Record<string, unknown>, dir: string, state?: TrainState): number {
  const epoch = metadata.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1 || !metadata.swa) {
    throw new Error(`${dir}/${MODEL_FILE} does not say which epoch's SWA average it holds`);
  }
  if (state && !state.history.some((h) => h.epoch === epoch && h.swa)) {
    throw new Error(
      `${dir} holds the SWA average after epoch ${epoch}, which the run's checkpoint does not record ` +
        `as an SWA epoch (it has ${state.epoch} epochs): resume the run for one more epoch, then ship`,
    );
  }
  return epoch;
}
