// @affect/stream-server as a library (tests and benches start servers in-process).
export { defaultConfig, checkConfig, DEFAULT_LIMITS, DEFAULT_PORT, type ServerConfig } from './config.ts';
export { createEngine, type Engine, type InferenceOutput } from './engine.ts';
export {
  loadShippedModels,
  ensembleWeights,
  membersToRun,
  presentArchs,
  NoModelsError,
  type ShippedModels,
} from './models.ts';
export { decodeCrop, CropError } from './decode.ts';
export { startStreamServer, type Health, type StreamServer } from './server.ts';
