// Where --init weights came from. A run that fine-tunes one of our own models (a run's best/
// or checkpoint/, or a shipped models/<arch>/) carries that model's training record up to the
// epoch its weights are from, so the report counts the whole chain: those epochs, their time,
// one curve.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EpochLog, TrainConfig, TrainState } from './trainer.ts';

export type Recipe = Omit<TrainConfig, 'dataDir' | 'out'>;

/** The training behind a run's --init weights, up to the epoch those weights are from. */
export interface InitOrigin {
  /** The --init path as given. */
  path: string;
  recipe: Recipe;
  /** Epochs up to and including the one the weights are from. */
  epochs: number;
  /** Wall-clock seconds of those epochs. */
  trainSeconds: number;
  history: EpochLog[];
  /** Where that run's own --init weights came from. */
  initFrom?: InitOrigin;
}

/** A run's training record: training.json as `fer ship` writes it, and what the report reads. */
export interface RunRecord {
  recipe: Recipe;
  /** Epochs completed. */
  epochs: number;
  bestEpoch: number;
  trainSeconds: number;
  history: EpochLog[];
  /** The training behind the run's --init weights, when it started from one of our models. */
  initFrom?: InitOrigin;
  /**
   * 'swa' where the shipped weights are the run's latest SWA average rather than its best epoch
   * (`fer ship --from swa`); bestEpoch is then the average's epoch. Only in a shipped
   * training.json.
   */
  shippedFrom?: 'swa';
}

/** One link of a chain of runs: what every stage has, whether a run or an --init origin. */
export type StageRecord = Pick<RunRecord, 'recipe' | 'epochs' | 'trainSeconds' | 'history'>;

/** What a training record holds, whether a run's state.json or a shipped training.json. */
interface RecordOnDisk {
  recipe: Recipe;
  /** The epoch the weights in that folder are from. */
  weightsEpoch: number;
  history: EpochLog[];
  initFrom?: InitOrigin;
}

export function recipeOf(config: TrainConfig): Recipe {
  const { dataDir: _data, out: _out, ...recipe } = config;
  return recipe;
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * The record next to a model folder: a shipped model's training.json (weights of its best
 * epoch), a checkpoint's state.json (its last epoch), or for a run's best/ (its best epoch)
 * and swa/ (its latest SWA average) the run's checkpoint state.
 */
async function recordBeside(dir: string): Promise<RecordOnDisk | undefined> {
  const training = join(dir, 'training.json');
  if (existsSync(training)) {
    const t = await readJson<RunRecord>(training);
    return { recipe: t.recipe, weightsEpoch: t.bestEpoch, history: t.history, initFrom: t.initFrom };
  }
  const own = join(dir, 'state.json');
  if (existsSync(own)) {
    const s = await readJson<TrainState>(own);
    return { recipe: recipeOf(s.config), weightsEpoch: s.epoch, history: s.history, initFrom: s.initFrom };
  }
  const run = join(dir, '..', 'checkpoint', 'state.json');
  // best/: the run's best epoch; swa/: its latest SWA average (the model.json's epoch wins).
  if ((basename(dir) === 'best' || basename(dir) === 'swa') && existsSync(run)) {
    const s = await readJson<TrainState>(run);
    return {
      recipe: recipeOf(s.config),
      weightsEpoch: basename(dir) === 'best' ? s.bestEpoch : s.epoch,
      history: s.history,
      initFrom: s.initFrom,
    };
  }
  return undefined;
}

/** The folder of an --init model, given as its model.json or as the folder itself. */
export function modelDirOf(initPath: string): string {
  return basename(initPath) === 'model.json' ? dirname(initPath) : initPath;
}

/**
 * The training record of the model at `initPath`, or undefined for weights without one
 * (converted pretrained weights, a model copied by hand). The epoch the weights were saved at
 * (`metadata`, the model.json's, when given) wins over the record's, in case a run stopped
 * between writing the two.
 */
export async function readInitOrigin(
  initPath: string,
  metadata: Record<string, unknown> | undefined,
): Promise<InitOrigin | undefined> {
  const record = await recordBeside(modelDirOf(initPath));
  if (!record) return undefined;
  const saved = metadata?.epoch;
  const epochs = typeof saved === 'number' && Number.isInteger(saved) ? saved : record.weightsEpoch;
  const history = record.history.filter((h) => h.epoch <= epochs);
  return {
    path: initPath,
    recipe: record.recipe,
    epochs,
    trainSeconds: history.reduce((s, h) => s + h.seconds, 0),
    history,
    ...(record.initFrom ? { initFrom: record.initFrom } : {}),
  };
}

/** A run's stages, oldest first: the origins of its --init weights, then the run itself. */
export interface Stage {
  /** recipe.init is the --init path this stage started from, if any. */
  recipe: Recipe;
  /** First and last epoch of the stage, numbered across all stages (1-based). */
  firstEpoch: number;
  lastEpoch: number;
  trainSeconds: number;
}

export interface WholeTraining {
  stages: Stage[];
  /** Every epoch of every stage, renumbered to run on from one stage to the next. */
  history: EpochLog[];
  trainSeconds: number;
  /** Epochs of all stages. */
  epochs: number;
  /** The best epoch of the last stage, in the renumbered count. */
  bestEpoch: number;
}

/** A run's records, oldest first: the origins of its --init weights, then the run itself. */
export function trainingChain(run: RunRecord): StageRecord[] {
  const chain: StageRecord[] = [run];
  for (let o = run.initFrom; o; o = o.initFrom) chain.unshift(o);
  return chain;
}

/** A run and the training behind its --init weights, as one sequence of epochs. */
export function wholeTraining(run: RunRecord): WholeTraining {
  const chain = trainingChain(run);
  const stages: Stage[] = [];
  const history: EpochLog[] = [];
  let offset = 0;
  for (const s of chain) {
    stages.push({
      recipe: s.recipe,
      firstEpoch: offset + 1,
      lastEpoch: offset + s.epochs,
      trainSeconds: s.trainSeconds,
    });
    for (const h of s.history) history.push({ ...h, epoch: h.epoch + offset });
    offset += s.epochs;
  }
  return {
    stages,
    history,
    trainSeconds: stages.reduce((t, s) => t + s.trainSeconds, 0),
    epochs: offset,
    bestEpoch: offset - run.epochs + run.bestEpoch,
  };
}
