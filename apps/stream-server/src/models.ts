// The shipped models the server runs: every models/<arch>/ that holds a model.json, and the
// ensemble weights from models/ensemble.json when that file fits the loaded models, else
// equal weights (said in /healthz and the welcome). No model at all is a start-up error.
// Only members with a weight above 0 are run (membersToRun), unless the server is told to run
// them all (--all-models) so that sessions get every member's own probabilities.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ARCHS,
  DEFAULT_CLASSES,
  membersToRun as weightedMembers,
  ENSEMBLE_FILE,
  loadModelFrom,
  MODEL_FILE,
  readEnsembleSpec,
  type LoadedModel,
} from '@affect/fer';
import type { EnsembleInfo } from '@affect/protocol';

export interface ShippedModels {
  /** In ARCHS order. */
  members: LoadedModel[];
  /** One per member, summing to 1. */
  weights: number[];
  classes: string[];
  /** Per-class log-probability offsets applied to the mixed probabilities (applyClassBias). */
  classBias?: number[];
  ensemble: EnsembleInfo;
  /** true: weight-0 members are run as well, for their own probabilities (--all-models). */
  runAll: boolean;
}

export class NoModelsError extends Error {
  readonly code = 'no-models';
  constructor(modelsDir: string) {
    super(
      `no models in ${modelsDir}: expected <arch>/${MODEL_FILE} for at least one of ${ARCHS.join(', ')}. ` +
        "Train one ('fer train --arch cnn') or restore models/ from git, or point --models-dir at a folder that has them.",
    );
    this.name = 'NoModelsError';
  }
}

/**
 * The members the server runs on each batch: those with a weight above 0. A member with
 * weight 0 adds nothing to the ensemble, so it stays loaded and listed but is not run,
 * unless the models were loaded with allModels (then every member runs; the ensemble's mix
 * is the same, since a weight-0 member still adds nothing to it).
 */
export function membersToRun(models: ShippedModels): LoadedModel[] {
  return models.runAll ? [...models.members] : weightedMembers(models);
}

/** Which architectures have a model.json in `modelsDir`. */
export function presentArchs(modelsDir: string): string[] {
  return ARCHS.filter((arch) => existsSync(join(modelsDir, arch, MODEL_FILE)));
}

/** The ensemble weights for the loaded members, from ensemble.json when it fits them. */
export async function ensembleWeights(
  modelsDir: string,
  loaded: string[],
): Promise<{
  weights: number[];
  tta: boolean;
  classBias?: number[];
  source: EnsembleInfo['source'];
  note?: string;
}> {
  const equal = (note: string) => ({
    weights: loaded.map(() => 1 / loaded.length),
    tta: false,
    source: 'equal-weights' as const,
    note,
  });
  if (!existsSync(join(modelsDir, ENSEMBLE_FILE))) return equal(`no ${ENSEMBLE_FILE} in ${modelsDir}`);
  let spec;
  try {
    spec = await readEnsembleSpec(modelsDir);
  } catch (err) {
    return equal((err as Error).message);
  }
  const missing = spec.members.filter((m) => !loaded.includes(m));
  if (missing.length) return equal(`${ENSEMBLE_FILE} names ${missing.join(', ')}, which is not loaded`);
  if (
    !spec.weights.every((w) => Number.isFinite(w) && w >= 0) ||
    spec.weights.reduce((a, b) => a + b, 0) <= 0
  ) {
    return equal(`${ENSEMBLE_FILE} has negative or non-finite weights`);
  }
  const sum = spec.weights.reduce((a, b) => a + b, 0);
  const weights = loaded.map((name) => {
    const i = spec.members.indexOf(name as (typeof spec.members)[number]);
    return i < 0 ? 0 : spec.weights[i] / sum;
  });
  const unlisted = loaded.filter((name) => !spec.members.includes(name as (typeof spec.members)[number]));
  return {
    weights,
    tta: spec.tta === true,
    ...(spec.classBias ? { classBias: spec.classBias } : {}),
    source: 'ensemble.json',
    ...(unlisted.length ? { note: `${unlisted.join(', ')} not in ${ENSEMBLE_FILE}: weight 0` } : {}),
  };
}

/** Loads every present model onto the active tfjs backend (so pick the backend first). */
export interface LoadOptions {
  /**
   * false: no flip test-time augmentation even where ensemble.json asks for it (half the
   * inference per face, a little less accuracy; said in the ensemble's note).
   */
  tta?: boolean;
  /**
   * true: run the members the ensemble weighs 0 as well, so sessions can get their
   * probabilities (one more forward pass per face for each; said in the ensemble's note).
   */
  allModels?: boolean;
}

export async function loadShippedModels(
  modelsDir: string,
  options: LoadOptions = {},
): Promise<ShippedModels> {
  const names = presentArchs(modelsDir);
  if (names.length === 0) throw new NoModelsError(modelsDir);
  const members: LoadedModel[] = [];
  for (const name of names) members.push(await loadModelFrom(name, modelsDir));
  const classes = members[0].classes ?? [...DEFAULT_CLASSES];
  for (const m of members) {
    if (m.classes.join() !== classes.join()) {
      throw new Error(
        `models disagree on classes: ${members[0].name} has [${classes.join(', ')}], ${m.name} has [${m.classes.join(', ')}]`,
      );
    }
  }
  const fitted = await ensembleWeights(modelsDir, names);
  const { weights, source } = fitted;
  const biasFits = !fitted.classBias || fitted.classBias.length === classes.length;
  const classBias = biasFits ? fitted.classBias : undefined;
  const tta = fitted.tta && options.tta !== false;
  const idle = names.filter((_, i) => !(weights[i] > 0));
  const runAll = options.allModels === true && idle.length > 0;
  const notes = [
    fitted.note,
    biasFits
      ? undefined
      : `${ENSEMBLE_FILE} has a class bias for ${fitted.classBias!.length} classes, the models have ${classes.length}: bias ignored`,
    fitted.tta && !tta ? 'flip TTA off (--no-tta)' : undefined,
    runAll
      ? `${idle.join(', ')} run for ${idle.length > 1 ? 'their' : 'its'} own probabilities, weight 0 (--all-models)`
      : undefined,
  ].filter(Boolean);
  const note = notes.length ? notes.join('; ') : undefined;
  return {
    members,
    weights,
    classes,
    ...(classBias ? { classBias } : {}),
    ensemble: {
      members: names.map((name, i) => ({ name, weight: weights[i] })),
      source,
      tta,
      ...(classBias ? { classBias } : {}),
      ...(note ? { note } : {}),
    },
    runAll,
  };
}
