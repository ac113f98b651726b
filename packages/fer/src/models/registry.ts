// The shipped models in models/: one folder per architecture, plus ensemble.json with
// the member weights fitted on validation.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import * as tf from '../tfjs/tf.ts';
import { ARCHS, type Arch } from './architectures.ts';
import { ModelFileError, readModelArtifacts } from './io.ts';
import { DEFAULT_CLASSES } from '../data/format.ts';

export const DEFAULT_MODELS_DIR = resolve(fileURLToPath(new URL('../../../../models', import.meta.url)));
export const ENSEMBLE_FILE = 'ensemble.json';

export interface LoadedModel {
  name: string;
  model: LayersModel;
  classes: string[];
  metadata: Record<string, unknown>;
}

export interface EnsembleSpec {
  members: Arch[];
  /** Non-negative, summing to 1, in members order. */
  weights: number[];
  /** Average each member over the image and its mirror image. */
  tta: boolean;
  /**
   * Per-class offsets (classes order) added to the log of the mixed probabilities before they
   * are renormalised: p_c * exp(b_c) / sum. Fitted on validation; absent means none.
   */
  classBias?: number[];
  fittedOn?: string;
}

/** Loads a model from a folder holding model.json, or from models/<arch>. */
export async function loadModelFrom(nameOrDir: string, modelsDir = DEFAULT_MODELS_DIR): Promise<LoadedModel> {
  const dir = (ARCHS as readonly string[]).includes(nameOrDir)
    ? join(modelsDir, nameOrDir)
    : nameOrDir.replace(/\/model\.json$/, '');
  const artifacts = await readModelArtifacts(dir);
  const metadata = artifacts.metadata ?? {};
  const classes = Array.isArray(metadata.classes) ? (metadata.classes as string[]) : [...DEFAULT_CLASSES];
  const model = await loadLayersModel(tf.io.fromMemory(artifacts));
  return { name: nameOrDir, model, classes, metadata };
}

export async function readEnsembleSpec(modelsDir = DEFAULT_MODELS_DIR): Promise<EnsembleSpec> {
  const path = join(modelsDir, ENSEMBLE_FILE);
  if (!existsSync(path)) {
    throw new ModelFileError(
      `no ${ENSEMBLE_FILE} in ${modelsDir}: fit the ensemble with 'fer ensemble' after training its members`,
    );
  }
  const spec = JSON.parse(await readFile(path, 'utf8')) as EnsembleSpec;
  if (
    !Array.isArray(spec.members) ||
    spec.members.length !== spec.weights?.length ||
    spec.members.some((m) => !ARCHS.includes(m))
  ) {
    throw new ModelFileError(`${path} is malformed: members must be architectures with one weight each`);
  }
  if (
    spec.classBias !== undefined &&
    (!Array.isArray(spec.classBias) || !spec.classBias.every((b) => typeof b === 'number' && Number.isFinite(b)))
  ) {
    throw new ModelFileError(`${path} is malformed: classBias must be a list of finite numbers, one per class`);
  }
  return spec;
}

/**
 * The members an ensemble runs: those with a weight above 0. A weight-0 member adds nothing
 * to the mix, so the stream server, fer eval and the report's timing and costs all skip it.
 */
export function membersToRun<T>(ensemble: { members: readonly T[]; weights: readonly number[] }): T[] {
  return ensemble.members.filter((_, i) => ensemble.weights[i] > 0);
}

/**
 * Applies an ensemble's class bias to rows of k probabilities, in place: each row becomes
 * p_c * exp(b_c), renormalised to sum to 1. No bias leaves the rows as they are.
 */
export function applyClassBias<T extends Float32Array | number[]>(probs: T, k: number, bias?: number[]): T {
  if (!bias) return probs;
  if (bias.length !== k) throw new Error(`class bias has ${bias.length} entries for ${k} classes`);
  const scale = bias.map(Math.exp);
  for (let r = 0; r < probs.length; r += k) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += (probs[r + c] *= scale[c]);
    if (sum > 0) for (let c = 0; c < k; c++) probs[r + c] /= sum;
  }
  return probs;
}
