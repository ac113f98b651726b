// Fitting the ensemble: member weights on the probability simplex, chosen on validation
// (deduplicated against train) to maximise macro-F1, with and without flip TTA.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataset } from '../data/reader.ts';
import { getSplit } from '../data/format.ts';
import { indicesAlsoIn } from '../data/duplicates.ts';
import { gatherImages, gatherLabels } from '../train/batch.ts';
import { argmaxRows, computeMetrics, type Metrics } from '../eval/metrics.ts';
import { predictProbs, predictProbsTta, useCpuBackend } from '../eval/predict.ts';
import { ARCHS, type Arch } from './architectures.ts';
import { DEFAULT_MODELS_DIR, ENSEMBLE_FILE, loadModelFrom, type EnsembleSpec } from './registry.ts';
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
    validation: { plain: Metrics; tta: Metrics; crossFitted: Metrics; n: number };
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

/**
 * An out-of-sample estimate of fitting on validation: the weights fitted on the even-numbered
 * images score the odd-numbered ones and the other way round, and the metrics are taken over
 * the pooled predictions. The in-sample numbers of bestWeights() are optimistic by the
 * difference.
 */
export function crossFitted(probs: Float32Array[], labels: Uint8Array, classes: string[], steps = 20): Metrics {
  const k = classes.length;
  const halves = [0, 1].map((h) => Array.from(labels.keys()).filter((i) => i % 2 === h));
  const predicted = new Uint8Array(labels.length);
  halves.forEach((fitOn, h) => {
    const scoreOn = halves[1 - h];
    const { weights } = bestWeights(
      probs.map((p) => rows(p, k, fitOn)),
      Uint8Array.from(fitOn, (i) => labels[i]),
      classes,
      steps,
    );
    const guess = argmaxRows(mix(probs.map((p) => rows(p, k, scoreOn)), weights), k);
    scoreOn.forEach((r, i) => (predicted[r] = guess[i]));
  });
  return computeMetrics(labels, predicted, classes);
}

export async function fitEnsemble(dataDir: string, modelsDir = DEFAULT_MODELS_DIR): Promise<FitResult> {
  await useCpuBackend();
  const members = ARCHS.filter((a) => existsSync(join(modelsDir, a, 'model.json'))) as Arch[];
  if (members.length === 0) throw new Error(`no models in ${modelsDir}: ship at least one with fer ship`);
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
  for (const arch of members) {
    const loaded = await loadModelFrom(arch, modelsDir);
    classes = loaded.classes;
    plain.push(await predictProbs(loaded.model, pixels));
    tta.push(await predictProbsTta(loaded.model, pixels));
    loaded.model.dispose();
  }
  const a = bestWeights(plain, labels, classes);
  const b = bestWeights(tta, labels, classes);
  const useTta = b.metrics.macroF1 > a.metrics.macroF1;
  const chosen = useTta ? b : a;
  const spec = {
    members,
    weights: chosen.weights,
    tta: useTta,
    fittedOn: `validation minus its copies of train (${keep.length} images), grid 1/20, max macro-F1`,
    validation: {
      plain: a.metrics,
      tta: b.metrics,
      crossFitted: crossFitted(useTta ? tta : plain, labels, classes),
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
