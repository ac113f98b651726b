// @affect/fer as a library: what other packages (the stream server, benches) use. The CLI
// lives behind '@affect/fer/cli'.
export * as tf from './tfjs/tf.ts';
export { ARCHS, isArch, type Arch } from './models/architectures.ts';
export {
  DEFAULT_MODELS_DIR,
  ENSEMBLE_FILE,
  applyClassBias,
  loadModelFrom,
  membersToRun,
  readEnsembleSpec,
  type EnsembleSpec,
  type LoadedModel,
} from './models/registry.ts';
export { MODEL_FILE, ModelFileError } from './models/io.ts';
export { predictProbs, predictProbsTta, useCpuBackend } from './eval/predict.ts';
export { ensembleProbs, evaluate, type EvalOptions, type EvalReport } from './eval/evaluate.ts';
export {
  DEFAULT_CLASSES,
  IMAGE_BYTES,
  IMAGE_SIDE,
  readDataset,
  readSplit,
  getSplit,
  toGray48,
  type FerSplit,
} from './data/index.ts';
export { requireSharedData, repoRoot, sharedDataDir, seededRandom } from './data/testing.ts';
