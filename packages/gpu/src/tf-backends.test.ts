// The hand-off: preprocess's output buffer becomes a zero-copy tfjs tensor on the webgpu
// backend registered on OUR device, and a small model on it matches the cpu backend fed the
// reference output. Also: the wasm backend helper.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, test } from 'vitest';
import { readFloat32 } from './kernel.ts';
import { OUT_PIXELS, preprocess } from './preprocess.ts';
import { preprocessReference } from './preprocess-reference.ts';
import {
  createTfWebgpuBackend,
  initWasmBackend,
  tensorFromGpuBuffer,
  type TfWebgpuBackend,
} from './tf-backends.ts';
import { gpuForTests, maxAbsDiff, randomCrop, randomImages, seeded } from './test-support.ts';

// A conv + relu + global mean: enough to exercise tfjs's own WGSL on our buffer.
function smallModel(x: tf.Tensor4D, filter: Float32Array): tf.Tensor {
  return tf.tidy(() => tf.mean(tf.relu(tf.conv2d(x, tf.tensor4d(filter, [3, 3, 1, 4]), 1, 'same')), [1, 2]));
}

const filter = randomImages(seeded(21), 36).map((v) => v - 0.5);
const gpu = await gpuForTests();

describe.skipIf(!gpu)('tfjs on our device', () => {
  const ctx = gpu!;
  let webgpu: TfWebgpuBackend;
  afterAll(() => {
    webgpu?.dispose();
    gpu?.destroy();
  });

  test('registers as the active webgpu backend on our GPUDevice', async () => {
    webgpu = await createTfWebgpuBackend(ctx, tf);
    expect(tf.getBackend()).toBe('webgpu');
    expect((webgpu.backend as unknown as { device: GPUDevice }).device).toBe(ctx.device);
    // Node 20 has no navigator; the helper must not leave the Dawn instance reachable there.
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
  });

  test('preprocess → zero-copy tensor → conv2d + mean matches the cpu backend on the reference', async () => {
    const r = seeded(22);
    const crops = [
      randomCrop(r, 120, 100),
      randomCrop(r, 31, 40),
      randomCrop(r, 48, 48),
      randomCrop(r, 300, 7),
    ];
    await tf.setBackend('webgpu');
    const { buffer, shape } = await preprocess(ctx, crops);
    const x = tensorFromGpuBuffer(tf, buffer, shape) as tf.Tensor4D;
    const onGpu = smallModel(x, filter);
    const gpuResult = (await onGpu.data()) as Float32Array;
    tf.dispose([x, onGpu]);

    await tf.setBackend('cpu');
    const cpuX = tf.tensor4d(preprocessReference(crops), shape);
    const onCpu = smallModel(cpuX, filter);
    const cpuResult = (await onCpu.data()) as Float32Array;
    tf.dispose([cpuX, onCpu]);

    expect(gpuResult.length).toBe(crops.length * 4);
    expect(maxAbsDiff(gpuResult, cpuResult)).toBeLessThan(1e-4);
    // The tensor never owned the buffer: disposing it left the buffer readable.
    expect((await readFloat32(ctx, buffer)).length).toBe(crops.length * OUT_PIXELS);
    buffer.destroy();
  });

  test('the tensor reads the buffer in place, not a copy', async () => {
    await tf.setBackend('webgpu');
    const { buffer, shape } = await preprocess(ctx, [randomCrop(seeded(23), 60, 60)]);
    const x = tensorFromGpuBuffer(tf, buffer, shape);
    const replacement = randomImages(seeded(24), OUT_PIXELS);
    ctx.device.queue.writeBuffer(buffer, 0, replacement);
    expect(maxAbsDiff((await x.data()) as Float32Array, replacement)).toBe(0);
    x.dispose();
    buffer.destroy();
  });

  test('tensorFromGpuBuffer refuses to run on another backend', async () => {
    await tf.setBackend('cpu');
    const { buffer, shape } = await preprocess(ctx, [randomCrop(seeded(25), 8, 8)]);
    expect(() => tensorFromGpuBuffer(tf, buffer, shape)).toThrow(
      /needs the webgpu backend active \(it is 'cpu'\)/,
    );
    buffer.destroy();
  });
});

test('initWasmBackend makes wasm active and it computes what cpu computes', async () => {
  const crops = [randomCrop(seeded(26), 90, 70)];
  const x = preprocessReference(crops);
  await tf.setBackend('cpu');
  const expected = await tf.tidy(() => smallModel(tf.tensor4d(x, [1, 48, 48, 1]), filter)).data();
  await initWasmBackend(tf);
  expect(tf.getBackend()).toBe('wasm');
  const result = tf.tidy(() => smallModel(tf.tensor4d(x, [1, 48, 48, 1]), filter));
  expect(maxAbsDiff((await result.data()) as Float32Array, expected as Float32Array)).toBeLessThan(1e-5);
  result.dispose();
  // A second call finds it initialised and just switches to it.
  await tf.setBackend('cpu');
  await initWasmBackend(tf);
  expect(tf.getBackend()).toBe('wasm');
});
