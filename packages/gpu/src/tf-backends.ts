// tfjs backends for Node: webgpu on OUR device (so kernel outputs feed models without a copy)
// and wasm (the fastest CPU backend here). Both helpers take the tfjs-core module as an
// argument and keep nothing at module level.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { GpuContext } from './device.ts';

export type Tf = typeof TfCore;

/** tfjs-backend-webgpu registers its kernels under this name, so the backend must use it too. */
export const WEBGPU_BACKEND = 'webgpu';

export interface TfWebgpuBackend {
  name: typeof WEBGPU_BACKEND;
  backend: TfCore.KernelBackend;
  /** Unregisters (and disposes) the backend; tensors on it become invalid. */
  dispose(): void;
}

// tfjs-backend-webgpu checks `navigator.gpu` when it is imported (to register a backend that
// makes its own device) and in its constructor. Node 20 has no navigator: define it only
// meanwhile and leave the global object as Node made it.
function withNavigatorGpu<T>(gpu: GPU, make: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  try {
    return make();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}

/**
 * Registers tfjs's WebGPU backend on ctx's device and makes it the active backend. After
 * ctx.recreate() (device lost) call it again: the old backend holds the dead device.
 */
export async function createTfWebgpuBackend(ctx: GpuContext, tf: Tf): Promise<TfWebgpuBackend> {
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const backend = withNavigatorGpu(ctx.gpu, () => new WebGPUBackend(ctx.device, ctx.adapter.info));
  // Replace any earlier registration, including the package's own (its factory opens another device).
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  tf.registerBackend(WEBGPU_BACKEND, () => backend);
  if (!(await tf.setBackend(WEBGPU_BACKEND))) {
    throw new Error(
      "tf.setBackend('webgpu') returned false: the WebGPU backend failed to initialise on our device",
    );
  }
  return {
    name: WEBGPU_BACKEND,
    backend,
    dispose() {
      // Only ours: a later createTfWebgpuBackend may have replaced it.
      if (tf.engine().registry[WEBGPU_BACKEND] === backend) tf.removeBackend(WEBGPU_BACKEND);
    },
  };
}

/**
 * A float32 tensor that reads `buffer` in place (zero-copy) on the active webgpu backend.
 * The buffer stays the caller's: keep it alive while the tensor is used, destroy it afterwards.
 */
export function tensorFromGpuBuffer(tf: Tf, buffer: GPUBuffer, shape: number[]): TfCore.Tensor {
  if (tf.getBackend() !== WEBGPU_BACKEND) {
    throw new Error(`tensorFromGpuBuffer needs the webgpu backend active (it is '${tf.getBackend()}')`);
  }
  return tf.tensor({ buffer, zeroCopy: true }, shape, 'float32');
}

/**
 * Initialises tfjs's wasm backend in Node and makes it active. Threads stay off: the threaded
 * build can't start its workers in Node (see STACK-NOTES).
 */
export async function initWasmBackend(tf: Tf): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!tf.findBackendFactory('wasm')) {
    throw new Error(
      '@tensorflow/tfjs-backend-wasm registered with another copy of @tensorflow/tfjs-core than the one passed in; ' +
        'import tfjs-core the same way (package main) everywhere',
    );
  }
  if (!tf.findBackend('wasm')) {
    // The .wasm files sit beside the package's entry point; say so rather than rely on the
    // loader guessing from a bundler's script path.
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(entry)}/`);
  }
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false");
}
