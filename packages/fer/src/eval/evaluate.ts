// fer eval's engine: a model or the ensemble over one split of a fer4 folder.
import { readDataset } from '../data/reader.ts';
import { getSplit, type FerSplit } from '../data/format.ts';
import { indicesAlsoIn } from '../data/duplicates.ts';
import { gatherImages } from '../train/batch.ts';
import {
  applyClassBias,
  loadModelFrom,
  membersToRun,
  readEnsembleSpec,
  DEFAULT_MODELS_DIR,
  type LoadedModel,
} from '../models/registry.ts';
import { predictProbs, predictProbsTta, useCpuBackend } from './predict.ts';
import { computeMetrics, type Metrics } from './metrics.ts';

export interface EvalOptions {
  dataDir: string;
  split: string;
  /** cnn | vgg16 | resnetv2 | efficientnet | ensemble | a folder with model.json */
  model: string;
  modelsDir?: string;
  /** Predict only among these classes (for data sets that lack some). */
  classes?: string[];
  /** Drop evaluated images whose pixels also appear in the folder's train split. */
  dedup: boolean;
  /** Flip test-time augmentation; the ensemble follows its ensemble.json unless set. */
  tta?: boolean;
}

export interface EvalReport extends Metrics {
  model: string;
  split: string;
  tta: boolean;
  removedDuplicates: number;
  removedOtherClasses: number;
}

export class EvalError extends Error {
  constructor(
    message: string,
    readonly code = 'E_EVAL',
  ) {
    super(message);
    this.name = 'EvalError';
  }
}

/** Probabilities of a set of models (weighted mean), all over the same classes; weight-0 members are skipped. */
export async function ensembleProbs(
  members: LoadedModel[],
  weights: number[],
  pixels: Uint8Array,
  tta: boolean,
): Promise<Float32Array> {
  let sum: Float32Array | undefined;
  for (const m of membersToRun({ members: members.map((_, i) => i), weights })) {
    const p = tta
      ? await predictProbsTta(members[m].model, pixels)
      : await predictProbs(members[m].model, pixels);
    sum ??= new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) sum[i] += weights[m] * p[i];
  }
  return sum ?? new Float32Array(0);
}

function selectIndices(
  split: FerSplit,
  train: FerSplit | undefined,
  dedup: boolean,
  allowed: Set<number> | undefined,
) {
  const dupes = dedup && train && train !== split ? indicesAlsoIn(split, [train]) : new Set<number>();
  const keep: number[] = [];
  let removedOtherClasses = 0;
  for (let i = 0; i < split.n; i++) {
    if (dupes.has(i)) continue;
    if (allowed && !allowed.has(split.labels[i])) {
      removedOtherClasses++;
      continue;
    }
    keep.push(i);
  }
  return { keep, removedDuplicates: dupes.size, removedOtherClasses };
}

export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  await useCpuBackend();
  const modelsDir = o.modelsDir ?? DEFAULT_MODELS_DIR;
  const dataset = await readDataset(o.dataDir);
  const split = getSplit(dataset, o.split);
  const train = dataset.splits.find((s) => s.split === 'train');

  let members: LoadedModel[];
  let weights: number[];
  let tta = o.tta ?? false;
  let classBias: number[] | undefined;
  if (o.model === 'ensemble') {
    const spec = await readEnsembleSpec(modelsDir);
    members = await Promise.all(spec.members.map((m) => loadModelFrom(m, modelsDir)));
    weights = spec.weights;
    classBias = spec.classBias;
    tta = o.tta ?? spec.tta;
  } else {
    members = [await loadModelFrom(o.model, modelsDir)];
    weights = [1];
  }
  const modelClasses = members[0].classes;
  for (const m of members) {
    if (m.classes.join() !== modelClasses.join())
      throw new EvalError(`ensemble members disagree on classes: ${m.name}`);
  }

  const evalClasses = o.classes ?? modelClasses;
  for (const c of evalClasses) {
    if (!modelClasses.includes(c))
      throw new EvalError(`--classes: the model has no class '${c}' (it has ${modelClasses.join(', ')})`);
  }
  // Data labels → index in evalClasses; data classes the model cannot predict are an error
  // unless --classes leaves them out.
  const dataToEval = split.classes.map((c) => evalClasses.indexOf(c));
  const allowed = new Set<number>(dataToEval.flatMap((e, d) => (e >= 0 ? [d] : [])));
  if (!o.classes) {
    const missing = split.classes.filter((c) => !modelClasses.includes(c));
    if (missing.length) {
      throw new EvalError(
        `the data has classes the model cannot predict (${missing.join(', ')}); pass --classes with the ones to evaluate`,
      );
    }
  }
  const { keep, removedDuplicates, removedOtherClasses } = selectIndices(split, train, o.dedup, allowed);
  if (keep.length === 0) throw new EvalError(`no images left to evaluate in split '${o.split}'`);

  const k = modelClasses.length;
  const probs = applyClassBias(
    await ensembleProbs(members, weights, gatherImages(split.pixels, keep), tta),
    k,
    classBias,
  );
  const columns = evalClasses.map((c) => modelClasses.indexOf(c));
  const predicted = new Int32Array(keep.length);
  const truth = new Int32Array(keep.length);
  keep.forEach((idx, i) => {
    let best = 0;
    for (let c = 1; c < columns.length; c++)
      if (probs[i * k + columns[c]] > probs[i * k + columns[best]]) best = c;
    predicted[i] = best;
    truth[i] = dataToEval[split.labels[idx]];
  });
  for (const m of members) m.model.dispose();
  return {
    model: o.model,
    split: o.split,
    tta,
    removedDuplicates,
    removedOtherClasses,
    ...computeMetrics(truth, predicted, evalClasses),
  };
}
