// What every kernel wrapper needs: its WGSL source, a pipeline with an explicit bind-group
// layout, an error scope around the dispatch, and reading a result back.
import { readFile } from 'node:fs/promises';
import type { GpuContext } from './device.ts';

/** Invalid input to a kernel or its reference; `code` says which rule was broken. */
export class KernelInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'KernelInputError';
  }
}

/** kernels/wgsl/<name>.wgsl, found from this file's location so the working directory doesn't matter. */
export function wgslUrl(name: string): URL {
  return new URL(`../../../kernels/wgsl/${name}.wgsl`, import.meta.url);
}

export type BindingKind = 'read-only-storage' | 'storage' | 'uniform';

export interface ComputeKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Compiles kernels/wgsl/<name>.wgsl; compile errors are thrown with the file name, not logged. */
export async function createComputeKernel(
  device: GPUDevice,
  name: string,
  bindings: BindingKind[],
  constants: Record<string, number> = {},
): Promise<ComputeKernel> {
  const code = await readFile(wgslUrl(name), 'utf8');
  const layout = device.createBindGroupLayout({
    label: name,
    entries: bindings.map((type, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    })),
  });
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: name, code });
  const pipeline = device.createComputePipeline({
    label: name,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main', constants },
  });
  const error = await device.popErrorScope();
  if (error) throw new Error(`kernels/wgsl/${name}.wgsl does not compile: ${error.message}`);
  return { pipeline, layout };
}

/** Encodes one compute pass, submits it, and throws the validation error if there is one. */
export async function dispatch(
  device: GPUDevice,
  kernel: ComputeKernel,
  buffers: GPUBuffer[],
  workgroups: [number, number, number],
): Promise<void> {
  device.pushErrorScope('validation');
  const bindGroup = device.createBindGroup({
    layout: kernel.layout,
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...workgroups);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`${kernel.pipeline.label} dispatch failed: ${error.message}`);
}

/** A buffer holding `data`, for the kernels' inputs. */
export function uploadBuffer(
  device: GPUDevice,
  data: ArrayBufferView,
  usage: number,
  label: string,
): GPUBuffer {
  // Sizes are padded to 4 bytes (writeBuffer's granularity) and never 0 (empty bindings are invalid).
  const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({ label, size, usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** A float buffer for a kernel's result: bindable, readable, writable, and accepted by tfjs zero-copy. */
export function createOutputBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  return device.createBuffer({ label, size: bytes, usage });
}

/** Copies `count` floats (default: the whole buffer) back to the CPU. */
export async function readFloat32(gpu: GpuContext, buffer: GPUBuffer, count?: number): Promise<Float32Array> {
  const bytes = count === undefined ? buffer.size : count * 4;
  const device = gpu.device;
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}
