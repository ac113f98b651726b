// What the report is made of, read from disk: the shipped models (metrics.json and
// training.json written by `fer ship`), the ensemble spec, and facts about the data.
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ARCHS, type Arch } from '../models/architectures.ts';
import { countMacs } from '../models/flops.ts';
import { MODEL_FILE, ModelFileError, WEIGHTS_FILE } from '../models/io.ts';
import { ENSEMBLE_FILE, type EnsembleSpec } from '../models/registry.ts';
import type { TtaCheck } from '../models/ensemble.ts';
import { METRICS_FILE, TRAINING_FILE, type ShippedMetrics } from '../models/ship.ts';
import type { Metrics } from '../eval/metrics.ts';
import type { RunRecord } from '../train/origin.ts';
import { classCounts, getSplit, type FerDataset } from '../data/format.ts';
import { cleanIndices, indicesAlsoIn } from '../data/duplicates.ts';
import { computeStats } from '../data/stats.ts';

/** training.json as `fer ship` writes it. */
export type TrainingRecord = RunRecord;

/**
 * - missing: no models/<arch>/model.json
 * - unshipped: a model.json without metrics.json (copied by hand, or `fer ship` failed midway)
 * - shipped: model and metrics
 */
export type ModelStatus = 'missing' | 'unshipped' | 'shipped';

export interface ModelRecord {
  arch: Arch;
  dir: string;
  status: ModelStatus;
  metrics?: ShippedMetrics;
  training?: TrainingRecord;
  /**
   * models/<arch>/NOTES.md, written by hand: how a run actually went where training.json
   * cannot say (a recipe changed between resumed sessions, a fix that came mid-run).
   */
  notes?: string;
}

/** The hand-written notes file next to a shipped model (`fer ship` leaves it alone). */
export const NOTES_FILE = 'NOTES.md';

export type TrainingProgress =
  | { state: 'complete'; epochs: number; budget: number }
  | { state: 'stopped-early'; epochs: number; budget: number; patience: number }
  | { state: 'partial'; epochs: number; budget: number }
  /** The learning-rate schedule ran its course; the SWA epochs planned after it have not started. */
  | { state: 'swa-pending'; epochs: number; budget: number; swaEpochs: number }
  /** The learning-rate schedule ran its course, then `swaDone` of the `swaEpochs` SWA epochs planned after it. */
  | { state: 'swa-partial'; epochs: number; budget: number; swaEpochs: number; swaDone: number };

/** Whether a model's training ran its course: all epochs (SWA epochs included), or early stopping. */
export function trainingProgress(t: TrainingRecord): TrainingProgress {
  const swaEpochs = t.recipe.swaEpochs ?? 0;
  const budget = t.recipe.epochs + swaEpochs;
  if (t.epochs >= budget) return { state: 'complete', epochs: t.epochs, budget };
  if (swaEpochs > 0 && t.epochs >= t.recipe.epochs && !t.history.some((h) => h.swa))
    return { state: 'swa-pending', epochs: t.epochs, budget, swaEpochs };
  if (t.epochs - t.bestEpoch >= t.recipe.patience)
    return { state: 'stopped-early', epochs: t.epochs, budget, patience: t.recipe.patience };
  if (swaEpochs > 0 && t.epochs >= t.recipe.epochs)
    return { state: 'swa-partial', epochs: t.epochs, budget, swaEpochs, swaDone: t.epochs - t.recipe.epochs };
  return { state: 'partial', epochs: t.epochs, budget };
}

async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    throw new ModelFileError(`${path} is not readable JSON (${(err as Error).message}): rerun fer ship`);
  }
}

export async function readModelRecords(modelsDir: string): Promise<ModelRecord[]> {
  const records: ModelRecord[] = [];
  for (const arch of ARCHS) {
    const dir = join(modelsDir, arch);
    if (!existsSync(join(dir, MODEL_FILE))) {
      records.push({ arch, dir, status: 'missing' });
      continue;
    }
    const metricsPath = join(dir, METRICS_FILE);
    const trainingPath = join(dir, TRAINING_FILE);
    const metrics = existsSync(metricsPath) ? await readJson<ShippedMetrics>(metricsPath) : undefined;
    const training = existsSync(trainingPath) ? await readJson<TrainingRecord>(trainingPath) : undefined;
    const notesPath = join(dir, NOTES_FILE);
    const notes = existsSync(notesPath) ? (await readFile(notesPath, 'utf8')).trim() || undefined : undefined;
    records.push({ arch, dir, status: metrics ? 'shipped' : 'unshipped', metrics, training, notes });
  }
  return records;
}

/** ensemble.json as `fer ensemble` writes it: the spec plus its fit on validation. */
export type EnsembleFile = EnsembleSpec & {
  validation?: {
    plain: Metrics;
    tta: Metrics;
    biased?: Metrics;
    crossFitted?: Metrics;
    /** The 2-fold splits crossFitted pools; absent (one split) in files before it pooled more. */
    crossFitRepeats?: number;
    classBiasCheck?: { withBias: number; withoutBias: number };
    ttaCheck?: TtaCheck;
    n: number;
  };
};

export async function readEnsembleFile(modelsDir: string): Promise<EnsembleFile | undefined> {
  const path = join(modelsDir, ENSEMBLE_FILE);
  return existsSync(path) ? readJson<EnsembleFile>(path) : undefined;
}

export interface LayerCounts {
  conv: number;
  depthwise: number;
  dense: number;
  batchNorm: number;
  total: number;
}

export interface ModelCost {
  params: number;
  /** Multiply-accumulates per image (conv and dense layers). */
  macs: number;
  weightBytes: number;
  layers: LayerCounts;
}

export async function modelCost(model: LayersModel, dir: string): Promise<ModelCost> {
  const count = (cls: string) => model.layers.filter((l) => l.getClassName() === cls).length;
  return {
    params: model.countParams(),
    macs: countMacs(model),
    weightBytes: (await stat(join(dir, WEIGHTS_FILE))).size,
    layers: {
      conv: count('Conv2D'),
      depthwise: count('DepthwiseConv2D'),
      dense: count('Dense'),
      batchNorm: count('BatchNormalization'),
      total: model.layers.length,
    },
  };
}

export interface SplitSummary {
  split: string;
  n: number;
  perClass: number[];
}

export interface DataSummary {
  /** The data folder, as the report shows it. */
  dir: string;
  classes: readonly string[];
  splits: SplitSummary[];
  /** Train images used for training: not in another split, not blank. */
  cleanTrain: number;
  blank: number;
  duplicateGroups: number;
  conflictingLabelGroups: number;
  /** Evaluation splits' images that also appear in train (removed when evaluating). */
  alsoInTrain: Record<string, number>;
  /** Test images that also appear in validation (kept: nothing trains on validation). */
  testAlsoInValidation: number;
}

export function summarizeData(dataset: FerDataset): DataSummary {
  const stats = computeStats(dataset);
  const train = getSplit(dataset, 'train');
  const others = dataset.splits.filter((s) => s !== train);
  const test = dataset.splits.find((s) => s.split === 'test');
  const validation = dataset.splits.find((s) => s.split === 'validation');
  return {
    dir: dataset.dir,
    classes: dataset.classes,
    splits: dataset.splits.map((s) => ({ split: s.split, n: s.n, perClass: classCounts(s) })),
    cleanTrain: cleanIndices(train, others).length,
    blank: stats.blank.length,
    duplicateGroups: stats.duplicates.groups,
    conflictingLabelGroups: stats.duplicates.conflictingLabels.length,
    alsoInTrain: Object.fromEntries(others.map((s) => [s.split, indicesAlsoIn(s, [train]).size])),
    testAlsoInValidation: test && validation ? indicesAlsoIn(test, [validation]).size : 0,
  };
}
