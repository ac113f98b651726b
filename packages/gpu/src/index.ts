// @affect/gpu: the WebGPU device, tfjs on that device, and the WGSL kernels with their
// CPU references. Importing this module loads neither Dawn nor tfjs; createGpu() does.
export {
  createGpu,
  formatAdapter,
  GpuUnavailableError,
  INSTALL_HINT,
  type AdapterPath,
  type AdapterReport,
  type GpuBackend,
  type GpuContext,
  type GpuLimits,
  type GpuOptions,
  type GpuState,
} from './device.ts';
export { KernelInputError, readFloat32 } from './kernel.ts';
export {
  checkCrops,
  MAX_BATCH,
  MAX_CROP_SIDE,
  OUT_PIXELS,
  OUT_SIDE,
  preprocess,
  preprocessBytesMoved,
  type BytesMoved,
  type FaceCrop,
  type NormalizeOptions,
  type PreprocessOptions,
  type PreprocessResult,
  type Rect,
} from './preprocess.ts';
export { preprocessReference } from './preprocess-reference.ts';
export {
  augmentParams,
  DEFAULT_AUGMENT_RANGES,
  eraseBox,
  IDENTITY_AUGMENT,
  inverseMapping,
  mulberry32,
  type AugmentParams,
  type AugmentRanges,
  type EraseRect,
} from './augment-params.ts';
export { augment, augmentBytesMoved } from './augment.ts';
export { augmentReference } from './augment-reference.ts';
export {
  createTfWebgpuBackend,
  initWasmBackend,
  tensorFromGpuBuffer,
  WEBGPU_BACKEND,
  type Tf,
  type TfWebgpuBackend,
} from './tf-backends.ts';
