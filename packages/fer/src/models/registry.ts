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
  return spec;
}
