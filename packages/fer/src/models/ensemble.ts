// Fitting the ensemble: member weights on the probability simplex, chosen on validation
// (deduplicated against train) to maximise macro-F1, with flip TTA where that pays held out.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataset } from '../data/reader.ts';
import { getSplit } from '../data/format.ts';
import { indicesAlsoIn } from '../data/duplicates.ts';
import { gatherImages, gatherLabels, shuffled } from '../train/batch.ts';
import { argmaxRows, computeMetrics, type Metrics } from '../eval/metrics.ts';
import { predictProbs, predictProbsTta, useCpuBackend } from '../eval/predict.ts';
import { ARCHS, type Arch } from './architectures.ts';
import {
  applyClassBias,
  DEFAULT_MODELS_DIR,
  ENSEMBLE_FILE,
  loadModelFrom,
  type EnsembleSpec,
} from './registry.ts';
import { existsSync } from 'node:fs';
import { evaluate } from '../eval/evaluate.ts';

/** All weight vectors of `k` members on a grid of 1/steps, summing to 1. */
export function simplexGrid(k: number, steps: number): number[][] {
  if (k === 1) return [[1]];
  const out: number[][] = [];
  const rec = (prefix: number[], left: number) => {
    if (prefix.length === k - 1) {
      out.push([...prefix, left].map((v) => v / steps));
      return;
    }
    for (let v = 0; v <= left; v++) rec([...prefix, v], left - v);
  };
  rec([], steps);
  return out;
}

function mix(probs: Float32Array[], weights: number[]): Float32Array {
  const out = new Float32Array(probs[0].length);
  probs.forEach((p, m) => {
    const w = weights[m];
    if (w !== 0) for (let i = 0; i < p.length; i++) out[i] += w * p[i];
  });
  return out;
}

export interface FitResult {
  spec: EnsembleSpec & {
    validation: {
      plain: Metrics;
      tta: Metrics;
      /** The chosen weights and TTA with the class bias, when one is used. */
      biased?: Metrics;
      /** Held out (see crossFitted) for the procedure used, and macro-F1 with and without a bias. */
      crossFitted: Metrics;
      /** The 2-fold splits crossFitted pooled (its metrics count each image this many times). */
      crossFitRepeats: number;
      classBiasCheck: { withBias: number; withoutBias: number };
      ttaCheck: TtaCheck;
      n: number;
    };
    /** The fitted ensemble on test (deduplicated against train), for tests to hold it to. */
    test: Metrics;
  };
}

/** The weights (grid step 1/steps) with the best macro-F1; ties go to the more even mix. */
export function bestWeights(probs: Float32Array[], labels: Uint8Array, classes: string[], steps = 20) {
  const k = classes.length;
  let best: { weights: number[]; metrics: Metrics; spread: number } | undefined;
  for (const w of simplexGrid(probs.length, steps)) {
    const metrics = computeMetrics(labels, argmaxRows(mix(probs, w), k), classes);
    const spread = Math.max(...w) - Math.min(...w);
    if (
      !best ||
      metrics.macroF1 > best.metrics.macroF1 + 1e-12 ||
      (Math.abs(metrics.macroF1 - best.metrics.macroF1) <= 1e-12 && spread < best.spread)
    ) {
      best = { weights: w, metrics, spread };
    }
  }
  return best!;
}

function rows(probs: Float32Array, k: number, index: number[]): Float32Array {
  const out = new Float32Array(index.length * k);
  index.forEach((r, i) => out.set(probs.subarray(r * k, (r + 1) * k), i * k));
  return out;
}

/** The class-bias grid: offsets from -BIAS_RANGE to BIAS_RANGE in steps of BIAS_STEP. */
export const BIAS_RANGE = 0.6;
export const BIAS_STEP = 0.1;

/**
 * Per-class log-probability offsets (see applyClassBias) that maximise macro-F1 on rows of
 * k mixed probabilities, by coordinate search on the grid: each class's offset in turn is set
 * to its best grid value with the others held, until a whole round changes nothing. The last
 * class stays at 0 (a common shift changes nothing). Ties go to the smaller total offset.
 */
export function bestBias(mixed: Float32Array, labels: Uint8Array, classes: string[]) {
  const k = classes.length;
  const grid: number[] = [];
  for (let v = -BIAS_RANGE; v <= BIAS_RANGE + 1e-9; v += BIAS_STEP) grid.push(Math.round(v * 1e6) / 1e6);
  // Scored exactly as predictMix, the server and `fer eval` apply the bias.
  const score = (bias: number[]) =>
    computeMetrics(labels, argmaxRows(applyClassBias(mixed.slice(), k, bias), k), classes);
  const size = (b: number[]) => b.reduce((a, v) => a + Math.abs(v), 0);
  const bias = new Array<number>(k).fill(0);
  let metrics = score(bias);
  for (let round = 0; round < 20; round++) {
    let changed = false;
    for (let c = 0; c < k - 1; c++) {
      for (const v of grid) {
        if (v === bias[c]) continue;
        const trial = bias.map((b, j) => (j === c ? v : b));
        const m = score(trial);
        const better = m.macroF1 > metrics.macroF1 + 1e-12;
        const tie = Math.abs(m.macroF1 - metrics.macroF1) <= 1e-12 && size(trial) < size(bias);
        if (better || tie) {
          bias[c] = v;
          metrics = m;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return { bias, metrics };
}

/** The ensemble fitted on some rows: member weights, then optionally a class bias. */
export interface MixFit {
  weights: number[];
  classBias?: number[];
  metrics: Metrics;
}

export function fitMix(
  probs: Float32Array[],
  labels: Uint8Array,
  classes: string[],
  withBias: boolean,
  steps = 20,
): MixFit {
  const w = bestWeights(probs, labels, classes, steps);
  if (!withBias) return { weights: w.weights, metrics: w.metrics };
  const b = bestBias(mix(probs, w.weights), labels, classes);
  return { weights: w.weights, classBias: b.bias, metrics: b.metrics };
}

/** Class indices the fitted ensemble predicts for rows of member probabilities. */
export function predictMix(probs: Float32Array[], fit: Omit<MixFit, 'metrics'>, k: number): Int32Array {
  return argmaxRows(applyClassBias(mix(probs, fit.weights), k, fit.classBias), k);
}

/**
 * How many 2-fold splits of validation crossFitted pools. On our 4,671 validation images one
 * split's held-out macro-F1 has a standard deviation of about 0.003 across splits (measured on
 * the shipped members over 60 random splits), as much as a better member moves the ensemble;
 * the mean of ten has one of about 0.001.
 */
export const CROSS_FIT_REPEATS = 10;

/**
 * Which half (0 or 1) each image is in for the `repeat`th split crossFitted uses: even- and
 * odd-numbered images for repeat 0; after that each class's images in a seeded random order
 * (seed = repeat), dealt to the halves alternately, so both halves keep the class mix and
 * differ in size by at most one.
 */
export function crossFitHalves(labels: Uint8Array, repeat: number): Uint8Array {
  const half = new Uint8Array(labels.length);
  if (repeat === 0) {
    for (let i = 0; i < labels.length; i++) half[i] = i % 2;
    return half;
  }
  const byClass: number[][] = [];
  labels.forEach((y, i) => (byClass[y] ??= []).push(i));
  let dealt = 0;
  for (const members of byClass) {
    if (!members) continue;
    for (const i of shuffled(members, repeat)) half[i] = dealt++ % 2;
  }
  return half;
}

/**
 * An out-of-sample estimate of fitting on validation: the ensemble fitted on one half of the
 * images scores the other half and the other way round, over `repeats` different splits
 * (crossFitHalves), and the metrics are taken over all the pooled predictions (each image
 * predicted once per split, so `n` is repeats × images). Each half's member weights are fitted
 * once and scored both as they are (`plain`) and with a class bias fitted on top (`biased`).
 * The in-sample numbers of the fit are optimistic by the difference.
 */
export function crossFitted(
  probs: Float32Array[],
  labels: Uint8Array,
  classes: string[],
  steps = 20,
  repeats = CROSS_FIT_REPEATS,
): { plain: Metrics; biased: Metrics } {
  const k = classes.length;
  const n = labels.length;
  const truth = new Uint8Array(n * repeats);
  const plain = new Uint8Array(n * repeats);
  const biased = new Uint8Array(n * repeats);
  for (let r = 0; r < repeats; r++) {
    const half = crossFitHalves(labels, r);
    const halves = [0, 1].map((h) => Array.from(labels.keys()).filter((i) => half[i] === h));
    truth.set(labels, r * n);
    halves.forEach((fitOn, h) => {
      const scoreOn = halves[1 - h];
      const fit = fitMix(
        probs.map((p) => rows(p, k, fitOn)),
        gatherLabels(labels, fitOn),
        classes,
        true,
        steps,
      );
      const scored = probs.map((p) => rows(p, k, scoreOn));
      const guessPlain = predictMix(scored, { weights: fit.weights }, k);
      const guessBiased = predictMix(scored, fit, k);
      scoreOn.forEach((i, j) => {
        plain[r * n + i] = guessPlain[j];
        biased[r * n + i] = guessBiased[j];
      });
    });
  }
  return { plain: computeMetrics(truth, plain, classes), biased: computeMetrics(truth, biased, classes) };
}

/**
 * The held-out result of the whole procedure on one set of probabilities: with the fitted
 * class bias where that beats the plain weights held out, else without it. fitEnsemble keeps
 * the bias by the same rule.
 */
function heldOutChoice(c: ReturnType<typeof crossFitted>): { useBias: boolean; metrics: Metrics } {
  const useBias = c.biased.macroF1 > c.plain.macroF1;
  return { useBias, metrics: useBias ? c.biased : c.plain };
}

/**
 * Flip TTA doubles the forward passes per face, so it has to earn them: it is used only where
 * it raises macro-F1 held out by at least this much. An in-sample gain of a few thousandths
 * on 4,671 images is noise.
 */
export const TTA_MIN_GAIN = 0.003;

/** Held-out macro-F1 of fitting the ensemble with and without flip TTA, and the choice. */
export interface TtaCheck {
  withTta: number;
  withoutTta: number;
  minGain: number;
}

/**
 * The choice from the whole procedure (weights, then a class bias where that helps held out)
 * cross-fitted on the plain and on the flip-TTA probabilities (see crossFitted): TTA only for a
 * held-out gain of TTA_MIN_GAIN.
 */
export function ttaCheck(
  withoutTta: ReturnType<typeof crossFitted>,
  withTta: ReturnType<typeof crossFitted>,
): TtaCheck & { useTta: boolean } {
  const f1With = heldOutChoice(withTta).metrics.macroF1;
  const f1Without = heldOutChoice(withoutTta).metrics.macroF1;
  return {
    withTta: f1With,
    withoutTta: f1Without,
    minGain: TTA_MIN_GAIN,
    useTta: f1With - f1Without >= TTA_MIN_GAIN - 1e-12,
  };
}

export interface FitOptions {
  /**
   * Fit over these shipped models only; the other shipped ones are listed with weight 0, so
   * the server loads but does not run them (fewer forward passes per face). Default: all.
   */
  only?: string[];
}

export async function fitEnsemble(
  dataDir: string,
  modelsDir = DEFAULT_MODELS_DIR,
  options: FitOptions = {},
): Promise<FitResult> {
  await useCpuBackend();
  const members = ARCHS.filter((a) => existsSync(join(modelsDir, a, 'model.json'))) as Arch[];
  if (members.length === 0) throw new Error(`no models in ${modelsDir}: ship at least one with fer ship`);
  const only = options.only ?? members;
  const missing = only.filter((name) => !(members as string[]).includes(name));
  if (missing.length > 0 || only.length === 0) {
    throw new Error(
      `${missing.length ? `not shipped in ${modelsDir}: ${missing.join(', ')}` : 'no members named'}; ` +
        `the ensemble can use ${members.join(', ')}`,
    );
  }
  const fitted = members.filter((m) => only.includes(m));
  const dataset = await readDataset(dataDir);
  const val = getSplit(dataset, 'validation');
  const train = getSplit(dataset, 'train');
  const leaked = indicesAlsoIn(val, [train]);
  const keep = Array.from({ length: val.n }, (_, i) => i).filter((i) => !leaked.has(i));
  const pixels = gatherImages(val.pixels, keep);
  const labels = gatherLabels(val.labels, keep);
  const plain: Float32Array[] = [];
  const tta: Float32Array[] = [];
  let classes: string[] = [];
  for (const arch of fitted) {
    const loaded = await loadModelFrom(arch, modelsDir);
    classes = loaded.classes;
    plain.push(await predictProbs(loaded.model, pixels));
    tta.push(await predictProbsTta(loaded.model, pixels));
    loaded.model.dispose();
  }
  const a = bestWeights(plain, labels, classes);
  const b = bestWeights(tta, labels, classes);
  const heldOut = { plain: crossFitted(plain, labels, classes), tta: crossFitted(tta, labels, classes) };
  const { useTta, ...ttaHeldOut } = ttaCheck(heldOut.plain, heldOut.tta);
  const chosen = useTta ? b : a;
  const chosenProbs = useTta ? tta : plain;
  // A class bias is kept only where it helps held out, not just in-sample.
  const chosenHeldOut = useTta ? heldOut.tta : heldOut.plain;
  const { useBias, metrics: heldOutMetrics } = heldOutChoice(chosenHeldOut);
  const biased = useBias ? bestBias(mix(chosenProbs, chosen.weights), labels, classes) : undefined;
  // Members left out of the fit are listed with weight 0: loaded and shown, never run.
  const weights = members.map((m) => (fitted.includes(m) ? chosen.weights[fitted.indexOf(m)] : 0));
  const spec = {
    members,
    weights,
    tta: useTta,
    ...(biased ? { classBias: biased.bias } : {}),
    fittedOn:
      `validation minus its copies of train (${keep.length} images), grid 1/20, max macro-F1` +
      (fitted.length < members.length ? ` over ${fitted.join(', ')} only (--members)` : '') +
      (biased ? `; then a per-class log-probability bias, grid ${BIAS_STEP} in ±${BIAS_RANGE}` : ''),
    validation: {
      plain: a.metrics,
      tta: b.metrics,
      ...(biased ? { biased: biased.metrics } : {}),
      crossFitted: heldOutMetrics,
      crossFitRepeats: CROSS_FIT_REPEATS,
      classBiasCheck: { withBias: chosenHeldOut.biased.macroF1, withoutBias: chosenHeldOut.plain.macroF1 },
      ttaCheck: ttaHeldOut,
      n: keep.length,
    },
  };
  await writeFile(join(modelsDir, ENSEMBLE_FILE), `${JSON.stringify(spec, null, 1)}\n`);
  const {
    model: _m,
    split: _s,
    tta: _t,
    removedDuplicates: _r,
    removedOtherClasses: _o,
    ...test
  } = await evaluate({
    dataDir,
    split: 'test',
    model: 'ensemble',
    modelsDir,
    dedup: true,
  });
  const withTest = { ...spec, test };
  await writeFile(join(modelsDir, ENSEMBLE_FILE), `${JSON.stringify(withTest, null, 1)}\n`);
  return { spec: withTest };
}
