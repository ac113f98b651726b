// Decoded crops → per-model probabilities, on one of two paths:
//   webgpu: preprocess.wgsl (one dispatch per batch) writes [N,48,48,1] into a GPU buffer
//           that tfjs-webgpu reads in place (zero-copy) on the same device; the models'
//           weights live on that device too.
//   wasm:   the kernel's TypeScript twin (preprocessReference) and tfjs's wasm backend.
// `auto` takes WebGPU on a hardware adapter and wasm on a software one (lavapipe runs the
// models ~15x slower than wasm on the same cores, see STACK-NOTES).
import {
  createGpu,
  createTfWebgpuBackend,
  formatAdapter,
  initWasmBackend,
  preprocess,
  preprocessReference,
  tensorFromGpuBuffer,
  type AdapterReport,
  type FaceCrop,
  type GpuContext,
  type Tf,
} from '@affect/gpu';
import { tf } from '@affect/fer';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { BackendChoice } from './config.ts';
import { loadShippedModels, membersToRun, type ShippedModels } from './models.ts';

// fer's tf module re-exports tfjs-core (one instance for the whole process); @affect/gpu
// types it as the tfjs-core namespace, which has a `default` the re-export lacks.
const tfCore = tf as unknown as Tf;

export interface InferenceOutput {
  /**
   * n × classes probabilities, row-major, of each member that ran, by name: every member
   * with a weight above 0 (membersToRun). A weight-0 member is not run and has no entry,
   * unless the models were loaded with allModels.
   */
  perModel: Map<string, Float32Array>;
  preprocessMs: number;
  inferenceMs: number;
}

export interface EngineMemory {
  tensors: number;
  bytes: number;
  /** Bytes tfjs holds on the GPU; null on the wasm path. */
  gpuBytes: number | null;
}

export interface Engine {
  readonly backend: 'webgpu' | 'wasm';
  /** Where preprocessing runs: the WGSL kernel or its TypeScript reference. */
  readonly preprocess: 'wgsl' | 'reference';
  /** The adapter found, or null when none was looked for or none works. */
  readonly adapter: AdapterReport | null;
  /** One line on why this path runs. */
  readonly reason: string;
  readonly models: ShippedModels;
  run(crops: FaceCrop[]): Promise<InferenceOutput>;
  memory(): EngineMemory;
  dispose(): void;
}

export interface EngineOptions {
  backend: BackendChoice;
  modelsDir: string;
  /** false turns off the ensemble's flip TTA (see LoadOptions). */
  tta?: boolean;
  /** true runs the members the ensemble weighs 0 too (see LoadOptions). */
  allModels?: boolean;
  log?: (line: string) => void;
}

/** Probabilities of one member, averaged with the mirror image's when the ensemble asks. */
function predictMember(model: LayersModel, input: tf.Tensor4D, tta: boolean): tf.Tensor {
  return tf.tidy(() => {
    const p = model.predict(input) as tf.Tensor;
    if (!tta) return p;
    const mirrored = model.predict(tf.reverse(input, 2)) as tf.Tensor;
    return tf.div(tf.add(p, mirrored), 2);
  });
}

async function runModels(models: ShippedModels, input: tf.Tensor4D): Promise<Map<string, Float32Array>> {
  const run = membersToRun(models);
  // All of them are queued before any read, so a GPU can overlap them.
  const outputs = run.map((m) => predictMember(m.model, input, models.ensemble.tta));
  try {
    const probs = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
    return new Map(run.map((m, i) => [m.name, probs[i]]));
  } finally {
    for (const t of outputs) t.dispose();
  }
}

function memoryOf(gpu: boolean): EngineMemory {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
  return {
    tensors: m.numTensors,
    bytes: m.numBytes,
    gpuBytes: gpu ? (m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? 0) : null,
  };
}

async function wasmEngine(
  models: () => Promise<ShippedModels>,
  adapter: AdapterReport | null,
  reason: string,
): Promise<Engine> {
  await initWasmBackend(tfCore);
  const loaded = await models();
  return {
    backend: 'wasm',
    preprocess: 'reference',
    adapter,
    reason,
    models: loaded,
    async run(crops) {
      const t0 = performance.now();
      const pixels = preprocessReference(crops);
      const t1 = performance.now();
      const input = tf.tensor4d(pixels, [crops.length, 48, 48, 1]);
      try {
        const perModel = await runModels(loaded, input);
        return { perModel, preprocessMs: t1 - t0, inferenceMs: performance.now() - t1 };
      } finally {
        input.dispose();
      }
    },
    memory: () => memoryOf(false),
    dispose() {
      for (const m of loaded.members) m.model.dispose();
    },
  };
}

async function webgpuEngine(
  gpu: GpuContext,
  models: () => Promise<ShippedModels>,
  reason: string,
): Promise<Engine> {
  const backend = await createTfWebgpuBackend(gpu, tfCore);
  // Loaded after the backend switch, so the weights are created on the GPU.
  const loaded = await models();
  return {
    backend: 'webgpu',
    preprocess: 'wgsl',
    adapter: gpu.report,
    reason,
    models: loaded,
    async run(crops) {
      const t0 = performance.now();
      const pre = await preprocess(gpu, crops);
      const t1 = performance.now();
      const input = tensorFromGpuBuffer(tfCore, pre.buffer, pre.shape) as tf.Tensor4D;
      try {
        const perModel = await runModels(loaded, input);
        return { perModel, preprocessMs: t1 - t0, inferenceMs: performance.now() - t1 };
      } finally {
        input.dispose();
        pre.buffer.destroy();
      }
    },
    memory: () => memoryOf(true),
    dispose() {
      for (const m of loaded.members) m.model.dispose();
      backend.dispose();
      gpu.destroy();
    },
  };
}

/**
 * Runs one batch so the first client's frame does not pay for tfjs's kernel set-up (wasm:
 * ~150 ms on the first predict here; WebGPU: shader compilation, seconds on lavapipe).
 */
async function warmUp(engine: Engine): Promise<Engine> {
  const side = 64;
  const rgba = new Uint8Array(side * side * 4).map((_, i) => (i * 37) & 255);
  await engine.run([{ width: side, height: side, rgba }]);
  return engine;
}

/** Picks the path, loads the shipped models onto it, warms them up, and says which it took. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const engine = await selectEngine(options);
  try {
    return await warmUp(engine);
  } catch (err) {
    engine.dispose();
    throw err;
  }
}

async function selectEngine(options: EngineOptions): Promise<Engine> {
  const log = options.log ?? (() => {});
  const models = () =>
    loadShippedModels(options.modelsDir, { tta: options.tta, allModels: options.allModels });
  if (options.backend === 'wasm') return wasmEngine(models, null, '--backend wasm');

  let gpu: GpuContext;
  try {
    gpu = await createGpu();
  } catch (err) {
    if (options.backend === 'webgpu') throw err;
    const why = `no WebGPU adapter (${(err as Error).message.split('. ')[0]})`;
    log(`[engine] ${why}: running the models on tfjs wasm`);
    return wasmEngine(models, null, why);
  }
  if (options.backend === 'webgpu' || !gpu.report.software) {
    const why = options.backend === 'webgpu' ? '--backend webgpu' : 'the adapter is a hardware GPU';
    try {
      return await webgpuEngine(gpu, models, why);
    } catch (err) {
      gpu.destroy();
      throw err;
    }
  }
  // A software adapter: keep its report for /healthz, release the device, run on wasm.
  const report = gpu.report;
  gpu.destroy();
  return wasmEngine(
    models,
    report,
    'the adapter is a software one (tfjs wasm is faster on these cores; --backend webgpu forces WebGPU)',
  );
}
