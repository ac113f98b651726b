// The training loop: data-parallel workers, warm-up + cosine schedule, validation every
// epoch, early stopping on validation macro-F1, checkpoints that a later run resumes.
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Arch, View } from '../models/architectures.ts';
import { readModelArtifacts, weightArrays } from '../models/io.ts';
import { readDataset } from '../data/reader.ts';
import { getSplit, image, type FerSplit } from '../data/format.ts';
import { cleanIndices, indicesAlsoIn, isBlank } from '../data/duplicates.ts';
import { computeMetrics, argmaxRows, type Metrics } from '../eval/metrics.ts';
import { gatherImages, gatherLabels, shuffled } from './batch.ts';
import { WorkerPool } from './pool.ts';
import type { NamedWeights, TrainBackend } from './messages.ts';
import { createGpu } from '@affect/gpu';
import { learningRate } from './schedule.ts';
import { modelDirOf, readInitOrigin, readJson, type InitOrigin } from './origin.ts';
import { ProgressLine, formatDuration, progressBar } from './progress.ts';

export interface TrainConfig {
  arch: Arch;
  dataDir: string;
  out: string;
  epochs: number;
  batch: number;
  lr: number;
  warmupEpochs: number;
  lrFloor: number;
  weightDecay: number;
  labelSmoothing: number;
  classWeights: 'balanced' | 'none';
  augment: boolean;
  /**
   * With augment: the chance that a training image also gets one rectangle erased to a random
   * grey (random erasing, augment-params.ts). Undefined or 0: none (runs from before it existed).
   */
  erase?: number;
  seed: number;
  patience: number;
  workers: number;
  backend: TrainBackend;
  /** Train on at most this many images per class (a quick run on a real subset). */
  limitPerClass?: number;
  /** Validate on at most this many images. */
  valLimit?: number;
  /**
   * Channel width multiplier for vgg16 and efficientnet (ArchOptions.width); undefined keeps
   * the architecture's default (DEFAULT_WIDTH). Kept in the checkpoint, so a resume rebuilds
   * the same network.
   */
  width?: number;
  /**
   * What the network sees (ArchOptions.view); undefined: pixels (and every run from before
   * views existed). Kept in the checkpoint like width.
   */
  view?: View;
  /** Start from the weights of this tfjs model.json (transfer learning). */
  init?: string;
  /** Freeze this many layers from the input (with --init). */
  freeze: number;
  /**
   * Training images on which batch-norm statistics are re-estimated before each validation
   * ("precise BN", Replica.recalibrateBatchNorm); 0 keeps the running averages. Missing in
   * checkpoints written before it existed (read as 0 there unless --resume sets it).
   */
  bnImages?: number;
  /**
   * Stochastic weight averaging (Izmailov et al. 2018): after the `epochs` of the cosine
   * schedule, this many more at the constant learning rate `swaLr`, averaging the weights at
   * the end of each. Validation (after precise BN) and best/ then hold the running average,
   * and swa/ the latest average. SWA epochs are never stopped early; an early stop before
   * them ends the run without them.
   */
  swaEpochs?: number;
  /** The constant learning rate of the SWA epochs (default SWA_LR_FRACTION of lr). */
  swaLr?: number;
}

/** The default SWA learning rate as a fraction of the peak learning rate. */
export const SWA_LR_FRACTION = 0.15;

/** The SWA epochs' learning rate of a recipe: its own, else SWA_LR_FRACTION of its peak. */
export function swaLearningRate(r: Pick<TrainConfig, 'lr' | 'swaLr'>): number {
  return r.swaLr ?? r.lr * SWA_LR_FRACTION;
}

export const DEFAULT_CONFIG: Omit<TrainConfig, 'arch' | 'dataDir' | 'out'> = {
  epochs: 30,
  batch: 64,
  lr: 2e-3,
  warmupEpochs: 1,
  lrFloor: 0.02,
  weightDecay: 0.05,
  labelSmoothing: 0.1,
  classWeights: 'balanced',
  augment: true,
  seed: 1,
  patience: 8,
  workers: Math.max(1, Math.min(2, availableParallelism())),
  backend: 'wasm',
  freeze: 0,
  bnImages: 2048,
};

/**
 * 'auto' picks WebGPU when the adapter is a real GPU (one replica: the GPU is the parallel
 * part) and the wasm backend on CPUs (one replica per core, at most two).
 */
export async function resolveTrainBackend(wanted: TrainBackend | 'auto'): Promise<TrainBackend> {
  if (wanted !== 'auto') return wanted;
  try {
    const gpu = await createGpu();
    const software = gpu.report.software;
    gpu.destroy();
    return software ? 'wasm' : 'webgpu';
  } catch {
    return 'wasm';
  }
}

export interface EpochLog {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  valBalancedAccuracy: number;
  valMacroF1: number;
  imagesPerSecond: number;
  seconds: number;
  best: boolean;
  /** In an SWA epoch: how many epochs' weights the validated average holds. */
  swa?: number;
}

export interface TrainState {
  version: 1;
  config: TrainConfig;
  /** Epochs completed. */
  epoch: number;
  bestMacroF1: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  trainSeconds: number;
  history: EpochLog[];
  /** The training behind the --init weights, when they are one of our own models. */
  initFrom?: InitOrigin;
  /** Epochs averaged so far in the SWA phase; the average itself is checkpoint/swa.bin. */
  swaCount?: number;
}

export interface TrainResult {
  state: TrainState;
  stoppedEarly: boolean;
  bestDir: string;
}

const CHECKPOINT = 'checkpoint';
const BEST = 'best';
const LOG = 'log.jsonl';
const SWA_FILE = 'swa.bin';
/** The latest SWA average with its re-estimated batch-norm statistics, written every SWA epoch. */
const SWA_DIR = 'swa';

/** Concatenates weight arrays into one buffer, and splits it back given their sizes. */
function concatArrays(arrays: Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

function splitArrays(bin: Buffer, sizes: number[]): Float32Array[] {
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (all.length !== total) throw new Error(`expected ${total} values, the file holds ${all.length}`);
  const out: Float32Array[] = [];
  let offset = 0;
  for (const n of sizes) {
    out.push(all.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

/**
 * Folds one more set of weights into a running average of `count` sets (in place; returns
 * the new count). With count 0 the average becomes a copy of `weights`.
 */
export function addToAverage(average: Float32Array[], count: number, weights: Float32Array[]): number {
  if (average.length !== weights.length) throw new Error('weight lists of different lengths');
  const n = count + 1;
  average.forEach((a, t) => {
    const w = weights[t];
    if (a.length !== w.length) throw new Error(`weight ${t}: ${a.length} values against ${w.length}`);
    for (let j = 0; j < a.length; j++) a[j] += (w[j] - a[j]) / n;
  });
  return n;
}

function limitPerClass(split: FerSplit, indices: number[], limit: number, seed: number): number[] {
  const counts = new Array<number>(split.classes.length).fill(0);
  return shuffled(indices, seed)
    .filter((i) => counts[split.labels[i]]++ < limit)
    .sort((a, b) => a - b);
}

function balancedClassWeights(split: FerSplit, indices: number[]): number[] {
  const k = split.classes.length;
  const counts = new Array<number>(k).fill(0);
  for (const i of indices) counts[split.labels[i]]++;
  return counts.map((c) => (c === 0 ? 0 : indices.length / (k * c)));
}

function crossEntropy(probs: Float32Array, labels: Uint8Array, k: number): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(Math.max(1e-7, probs[i * k + labels[i]]));
  return sum / Math.max(1, labels.length);
}

/** Validation images: those of the validation split that are neither in train nor blank. */
export function validationIndices(val: FerSplit, train: FerSplit): number[] {
  const leaked = indicesAlsoIn(val, [train]);
  const keep: number[] = [];
  for (let i = 0; i < val.n; i++) if (!leaked.has(i) && !isBlank(image(val, i))) keep.push(i);
  return keep;
}

async function writeCheckpoint(
  pool: WorkerPool,
  out: string,
  state: TrainState,
  swaAverage?: Float32Array[],
): Promise<void> {
  const dir = join(out, CHECKPOINT);
  const next = `${dir}.next`;
  await pool.saveModel(next, false, { arch: state.config.arch, epoch: state.epoch });
  const optimizer = await pool.optimizerState();
  await writeFile(join(next, 'optimizer.json'), JSON.stringify(optimizer.map((a) => a.length)));
  await writeFile(join(next, 'optimizer.bin'), concatArrays(optimizer));
  if (swaAverage) await writeFile(join(next, SWA_FILE), concatArrays(swaAverage));
  await writeFile(join(next, 'state.json'), JSON.stringify(state, null, 1));
  const old = `${dir}.old`;
  await rm(old, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, old);
  await rename(next, dir);
  await rm(old, { recursive: true, force: true });
}

async function readCheckpoint(
  out: string,
): Promise<{ state: TrainState; weights: NamedWeights; optimizer: Float32Array[]; swa?: Buffer }> {
  const dir = join(out, CHECKPOINT);
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath))
    throw new Error(`--resume: no checkpoint at ${dir} (state.json missing); start without --resume`);
  const state = await readJson<TrainState>(statePath);
  const weights = weightArrays(await readModelArtifacts(dir));
  const sizes = await readJson<number[]>(join(dir, 'optimizer.json'));
  const optimizer = splitArrays(await readFile(join(dir, 'optimizer.bin')), sizes);
  if (!state.swaCount) return { state, weights, optimizer };
  const swaPath = join(dir, SWA_FILE);
  if (!existsSync(swaPath))
    throw new Error(`--resume: ${dir} is ${state.swaCount} SWA epochs in but has no ${SWA_FILE}`);
  return { state, weights, optimizer, swa: await readFile(swaPath) };
}

export interface TrainHooks {
  onStart?(info: {
    params: number;
    backend: string;
    trainSize: number;
    valSize: number;
    stepsPerEpoch: number;
    resumedFrom: number;
  }): void;
  onEpoch?(log: EpochLog): void;
}

export async function train(
  configIn: TrainConfig,
  resume = false,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  let config = configIn;
  let state: TrainState;
  let initWeights: NamedWeights | undefined;
  let initOptimizer: Float32Array[] | undefined;
  let swaBin: Buffer | undefined;
  if (resume) {
    const ck = await readCheckpoint(config.out);
    if (ck.state.config.arch !== configIn.arch)
      throw new Error(
        `${configIn.out} holds a ${ck.state.config.arch} run, not ${configIn.arch}: resume it with --arch ${ck.state.config.arch}`,
      );
    const ckSwaLr = swaLearningRate(ck.state.config);
    if (ck.state.swaCount && configIn.epochs !== ck.state.config.epochs)
      throw new Error(
        `${configIn.out} is in its SWA phase after a ${ck.state.config.epochs}-epoch schedule: ` +
          `resume it with --epochs ${ck.state.config.epochs} (or without --epochs)`,
      );
    if (ck.state.swaCount && configIn.swaLr !== undefined && configIn.swaLr !== ckSwaLr)
      throw new Error(
        `${configIn.out} has averaged ${ck.state.swaCount} SWA epochs at learning rate ${ckSwaLr}: ` +
          'resume it without --swa-lr (one SWA phase runs at one rate)',
      );
    if ((configIn.swaEpochs ?? 0) > 0 && !ck.state.swaCount && configIn.epochs < ck.state.epoch)
      throw new Error(
        `${configIn.out} has trained ${ck.state.epoch} epochs: SWA starts after --epochs, so give ` +
          `--epochs ${ck.state.epoch} or more (or leave --epochs out)`,
      );
    // A resumed run keeps its recipe; the epoch budget, SWA epochs and patience may be
    // extended, and where it runs (backend, worker count) follows this machine.
    config = {
      ...ck.state.config,
      epochs: configIn.epochs,
      patience: configIn.patience,
      bnImages: configIn.bnImages,
      swaEpochs: configIn.swaEpochs ?? ck.state.config.swaEpochs,
      swaLr: configIn.swaLr ?? ck.state.config.swaLr,
      out: configIn.out,
      dataDir: configIn.dataDir,
      workers: configIn.workers,
      backend: configIn.backend,
    };
    state = { ...ck.state, config };
    initWeights = ck.weights;
    initOptimizer = ck.optimizer;
    swaBin = ck.swa;
  } else {
    state = {
      version: 1,
      config,
      epoch: 0,
      bestMacroF1: -1,
      bestEpoch: -1,
      epochsWithoutImprovement: 0,
      trainSeconds: 0,
      history: [],
    };
    if (config.init) {
      const artifacts = await readModelArtifacts(modelDirOf(config.init));
      initWeights = weightArrays(artifacts);
      const origin = await readInitOrigin(config.init, artifacts.metadata);
      if (origin) state.initFrom = origin;
    }
    await mkdir(config.out, { recursive: true });
    await rm(join(config.out, LOG), { force: true });
  }

  const swaEpochs = config.swaEpochs ?? 0;
  const swaLr = swaLearningRate(config);
  // Precise BN re-estimates statistics on whole per-replica batches (Replica.recalibrateBatchNorm).
  const bnBatch = Math.max(2, Math.floor(config.batch / Math.max(1, config.workers)));
  if (swaEpochs > 0 && (config.bnImages ?? 0) < bnBatch)
    throw new Error(
      `SWA needs precise BN on at least one batch (--bn-images ${bnBatch} or more): ` +
        'the averaged weights have no batch-norm statistics of their own',
    );
  const totalEpochs = config.epochs + swaEpochs;

  const dataset = await readDataset(config.dataDir);
  const train = getSplit(dataset, 'train');
  const val = getSplit(dataset, 'validation');
  const k = train.classes.length;
  let trainIdx = cleanIndices(
    train,
    dataset.splits.filter((s) => s !== train),
  );
  if (config.limitPerClass) trainIdx = limitPerClass(train, trainIdx, config.limitPerClass, config.seed);
  let valIdx = validationIndices(val, train);
  if (config.valLimit)
    valIdx = shuffled(valIdx, config.seed + 1)
      .slice(0, config.valLimit)
      .sort((a, b) => a - b);
  const valPixels = gatherImages(val.pixels, valIdx);
  const valLabels = gatherLabels(val.labels, valIdx);
  const classWeights =
    config.classWeights === 'balanced' ? balancedClassWeights(train, trainIdx) : new Array<number>(k).fill(1);
  const stepsPerEpoch = Math.floor(trainIdx.length / config.batch);
  if (stepsPerEpoch < 1)
    throw new Error(`only ${trainIdx.length} training images: fewer than one batch of ${config.batch}`);

  const pool = await WorkerPool.start(config.workers, {
    arch: config.arch,
    numClasses: k,
    seed: config.seed,
    ...(config.width !== undefined ? { width: config.width } : {}),
    ...(config.view !== undefined ? { view: config.view } : {}),
    weights: initWeights,
    optimizer: initOptimizer,
    freeze: config.freeze,
    labelSmoothing: config.labelSmoothing,
    weightDecay: config.weightDecay,
    backend: config.backend,
  });
  hooks.onStart?.({
    params: pool.info.params,
    backend: pool.info.backend,
    trainSize: trainIdx.length,
    valSize: valIdx.length,
    stepsPerEpoch,
    resumedFrom: state.epoch,
  });

  const schedule = {
    lr: config.lr,
    warmupEpochs: config.warmupEpochs,
    epochs: config.epochs,
    floor: config.lrFloor,
  };
  let stoppedEarly = false;
  // The SWA running average, in the replicas' getWeights order (see PoolInfo.weightShapes).
  let swaAverage = swaBin
    ? splitArrays(
        swaBin,
        pool.info.weightShapes.map((s) => s.reduce((a, b) => a * b, 1)),
      )
    : undefined;
  try {
    for (let epoch = state.epoch; epoch < totalEpochs; epoch++) {
      const t0 = performance.now();
      const inSwa = epoch >= config.epochs;
      const order = shuffled(trainIdx, config.seed * 100_003 + epoch);
      const label =
        `${config.arch} epoch ${epoch + 1}/${totalEpochs}` +
        (inSwa ? ` (SWA ${epoch - config.epochs + 1}/${swaEpochs})` : '');
      const progress = new ProgressLine();
      let lossSum = 0;
      let weightSum = 0;
      let correct = 0;
      let seen = 0;
      let lr = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        const batch = order.slice(step * config.batch, (step + 1) * config.batch);
        const per = Math.ceil(batch.length / pool.size);
        const slices = Array.from({ length: pool.size }, (_, w) => {
          const part = batch.slice(w * per, (w + 1) * per);
          return { pixels: gatherImages(train.pixels, part), labels: gatherLabels(train.labels, part) };
        }).filter((s) => s.labels.length > 0);
        const g = await pool.gradients(
          slices,
          classWeights,
          config.augment
            ? { seed: config.seed * 1_000_003 + epoch * 10_007 + step, eraseProbability: config.erase ?? 0 }
            : undefined,
        );
        const scale = 1 / g.weightSum;
        for (let j = 0; j < g.grads.length; j++) g.grads[j] *= scale;
        lr = inSwa ? swaLr : learningRate(schedule, epoch + step / stepsPerEpoch);
        await pool.apply(g.grads, lr);
        lossSum += g.weightedLoss;
        weightSum += g.weightSum;
        correct += g.correct;
        seen += g.n;
        const elapsed = (performance.now() - t0) / 1000;
        const rate = seen / elapsed;
        const fields = {
          loss: (lossSum / weightSum).toFixed(4),
          acc: (correct / seen).toFixed(3),
          'img/s': rate.toFixed(1),
          eta: formatDuration((stepsPerEpoch * config.batch - seen) / rate),
        };
        progress.update(step + 1, stepsPerEpoch, progressBar(label, step + 1, stepsPerEpoch, fields));
      }
      progress.done();
      const trainSeconds = (performance.now() - t0) / 1000;
      // In SWA epochs the replicas validate the running average and take the training
      // weights back afterwards.
      let trainWeights: Float32Array[] | undefined;
      if (inSwa) {
        // The SWA epochs run their course: no early stop, counted afresh from the first.
        if (epoch === config.epochs) state.epochsWithoutImprovement = 0;
        trainWeights = await pool.syncWeights();
        swaAverage ??= trainWeights.map((w) => new Float32Array(w.length));
        state.swaCount = addToAverage(swaAverage, state.swaCount ?? 0, trainWeights);
        await pool.setWeights(swaAverage);
      }
      if (config.bnImages) {
        const sample = shuffled(trainIdx, config.seed * 7 + epoch).slice(0, config.bnImages);
        await pool.recalibrate(
          gatherImages(train.pixels, sample),
          Math.max(2, Math.floor(config.batch / pool.size)),
        );
      }
      await pool.syncWeights();
      const probs = await pool.predict(valPixels, k);
      const metrics: Metrics = computeMetrics(valLabels, argmaxRows(probs, k), [...val.classes]);
      const improved = metrics.macroF1 > state.bestMacroF1;
      const log: EpochLog = {
        epoch: epoch + 1,
        lr,
        trainLoss: lossSum / weightSum,
        trainAccuracy: correct / seen,
        valLoss: crossEntropy(probs, valLabels, k),
        valAccuracy: metrics.accuracy,
        valBalancedAccuracy: metrics.balancedAccuracy,
        valMacroF1: metrics.macroF1,
        imagesPerSecond: seen / trainSeconds,
        seconds: (performance.now() - t0) / 1000,
        best: improved,
        ...(inSwa ? { swa: state.swaCount } : {}),
      };
      state.epoch = epoch + 1;
      state.trainSeconds += log.seconds;
      state.history.push(log);
      const metadata = {
        arch: config.arch,
        epoch: epoch + 1,
        classes: val.classes,
        validation: { n: metrics.n, accuracy: metrics.accuracy, macroF1: metrics.macroF1 },
        ...(inSwa ? { swa: { epochs: state.swaCount, lr: swaLr } } : {}),
      };
      if (inSwa) await pool.saveModel(join(config.out, SWA_DIR), false, metadata);
      if (improved) {
        state.bestMacroF1 = metrics.macroF1;
        state.bestEpoch = epoch + 1;
        state.epochsWithoutImprovement = 0;
        await pool.saveModel(join(config.out, BEST), false, metadata);
        await writeFile(
          join(config.out, BEST, 'metrics.json'),
          JSON.stringify({ epoch: epoch + 1, validation: metrics }, null, 1),
        );
      } else {
        state.epochsWithoutImprovement++;
      }
      if (trainWeights) await pool.setWeights(trainWeights);
      await appendFile(join(config.out, LOG), `${JSON.stringify(log)}\n`);
      await writeCheckpoint(pool, config.out, state, swaAverage);
      hooks.onEpoch?.(log);
      if (!inSwa && state.epochsWithoutImprovement >= config.patience) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    await pool.close();
  }
  return { state, stoppedEarly, bestDir: join(config.out, BEST) };
}
