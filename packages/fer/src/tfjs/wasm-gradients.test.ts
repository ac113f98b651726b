import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from './tf.ts';
import { flipSpatially, registerWasmConvGradients } from './wasm-gradients.ts';

// Seeded random inputs: a broken gradient cannot pass by matching zeros.
function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  depthwise?: boolean;
}

const convCases: Case[] = [
  { name: '3x3 same s1', x: [4, 12, 12, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3x3 valid s1', x: [2, 9, 7, 4], filter: [3, 3, 4, 6], strides: 1, pad: 'valid' },
  { name: '3x3 same s2 even', x: [3, 12, 12, 2], filter: [3, 3, 2, 4], strides: 2, pad: 'same' },
  { name: '3x3 same s2 odd', x: [2, 11, 13, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { name: '5x5 same s1', x: [2, 10, 10, 2], filter: [5, 5, 2, 3], strides: 1, pad: 'same' },
  { name: '1x1 s1', x: [5, 6, 6, 8], filter: [1, 1, 8, 4], strides: 1, pad: 'same' },
  { name: '2x2 valid s2', x: [2, 8, 8, 3], filter: [2, 2, 3, 3], strides: 2, pad: 'valid' },
  // Odd sizes with a strided 'valid' conv leave input rows no output reads: the crop path.
  { name: '2x2 valid s2 odd', x: [2, 9, 11, 3], filter: [2, 2, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x3 valid s2 even', x: [2, 10, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
];

const depthwiseCases: Case[] = [
  { name: 'dw 3x3 same s1', x: [3, 10, 10, 6], filter: [3, 3, 6, 1], strides: 1, pad: 'same' },
  { name: 'dw 3x3 same s2', x: [2, 12, 11, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  { name: 'dw 5x5 same s2', x: [2, 12, 12, 3], filter: [5, 5, 3, 1], strides: 2, pad: 'same' },
  { name: 'dw 3x3 valid s1', x: [2, 7, 9, 5], filter: [3, 3, 5, 1], strides: 1, pad: 'valid' },
  { name: 'dw 3x3 valid s2', x: [2, 10, 11, 3], filter: [3, 3, 3, 1], strides: 2, pad: 'valid' },
];

const cases = [...convCases, ...depthwiseCases.map((c) => ({ ...c, depthwise: true }))];

async function gradients(c: Case, backend: string, seed: number): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  expect(tf.getBackend()).toBe(backend);
  const x = rand(c.x, seed) as tf.Tensor4D;
  const w = rand(c.filter, seed + 1) as tf.Tensor4D;
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const y = c.depthwise
      ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad)
      : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
    // A non-uniform upstream gradient, so dy is random too.
    return tf.sum(tf.mul(y, tf.randomUniform(y.shape, -1, 1, 'float32', seed + 2)));
  };
  const [dx, dw] = tf.grads(f)([x, w]);
  const out = [(await dx.data()) as Float32Array, (await dw.data()) as Float32Array];
  tf.dispose([x, w, dx, dw]);
  return out;
}

describe('wasm convolution gradients', () => {
  beforeAll(async () => {
    await tf.ready();
    registerWasmConvGradients();
  });

  for (const c of cases) {
    it(`match the cpu backend: ${c.name}`, async () => {
      const [cpuDx, cpuDw] = await gradients(c, 'cpu', 7);
      const [wasmDx, wasmDw] = await gradients(c, 'wasm', 7);
      expect(wasmDx.length).toBe(cpuDx.length);
      expect(wasmDw.length).toBe(cpuDw.length);
      const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbs(cpuDx)).toBeGreaterThan(0.1);
      expect(maxAbs(cpuDw)).toBeGreaterThan(0.1);
      for (let i = 0; i < cpuDx.length; i++) expect(wasmDx[i]).toBeCloseTo(cpuDx[i], 3);
      for (let i = 0; i < cpuDw.length; i++) expect(wasmDw[i]).toBeCloseTo(cpuDw[i], 3);
    });
  }

  it.each([
    ['Conv2DBackpropInput', { dy: [1, 6, 6, 2], filter: [3, 3, 2, 2] }, { inputShape: [1, 6, 6, 2] }],
    [
      'DepthwiseConv2dNativeBackpropFilter',
      { x: [1, 6, 6, 2], dy: [1, 6, 6, 2] },
      { filterShape: [3, 3, 2, 1] },
    ],
  ])('%s refuses dilated convolutions', async (kernel, inputShapes, shapeAttr) => {
    await tf.setBackend('wasm');
    const inputs = Object.fromEntries(
      Object.entries(inputShapes).map(([k, shape], i) => [k, rand(shape, 5 + i)]),
    );
    const attrs = { strides: 1, pad: 'same', dilations: 2, ...shapeAttr };
    expect(() => tf.engine().runKernel(kernel, inputs, attrs)).toThrow(`${kernel}: dilated convolutions`);
    tf.dispose(Object.values(inputs));
  });

  it.each([
    [3, 3, 4, 5],
    [5, 5, 3, 1],
    [1, 1, 8, 4],
    [2, 3, 2, 2],
  ])('turn a %i×%i filter 180° exactly as tf.reverse does', async (...shape) => {
    await tf.setBackend('wasm');
    const w = rand(shape, 11) as tf.Tensor4D;
    const flipped = flipSpatially(w);
    const expected = tf.reverse(w, [0, 1]);
    expect(flipped.shape).toEqual(shape);
    expect(Array.from(await flipped.data())).toEqual(Array.from(await expected.data()));
    if (shape[0] * shape[1] > 1)
      expect(Array.from(await flipped.data())).not.toEqual(Array.from(await w.data()));
    tf.dispose([w, flipped, expected]);
  });

  it('do not leak tensors', async () => {
    await tf.setBackend('wasm');
    const c = cases[2];
    await gradients(c, 'wasm', 3);
    const before = tf.memory().numTensors;
    await gradients(c, 'wasm', 4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
