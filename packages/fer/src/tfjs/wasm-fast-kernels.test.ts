import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { leadingAxesReduced, registerWasmFastReductions } from './wasm-fast-kernels.ts';

describe('leadingAxesReduced', () => {
  it('counts a run of leading axes, in any order or sign, and nothing else', () => {
    expect(leadingAxesReduced([0, 1, 2], 4)).toBe(3);
    expect(leadingAxesReduced([2, 0, 1], 4)).toBe(3);
    expect(leadingAxesReduced([-4, -3, -2], 4)).toBe(3);
    expect(leadingAxesReduced(0, 2)).toBe(1);
    expect(leadingAxesReduced([1, 2], 4)).toBe(0);
    expect(leadingAxesReduced([0, 2], 4)).toBe(0);
    expect(leadingAxesReduced([0, 1, 2, 3], 4)).toBe(0);
    expect(leadingAxesReduced([], 4)).toBe(0);
  });
});

// [shape, axis, keepDims]: leading-axis reductions (the fast path) and others (the original kernel).
const cases: Array<[number[], number | number[], boolean]> = [
  [[8, 12, 12, 16], [0, 1, 2], false],
  [[8, 12, 12, 16], [0, 1, 2], true],
  [[4, 7, 5, 3], [-4, -3, -2], false],
  [[64, 10], 0, false],
  [[6, 5, 9], [0, 1], true],
  [[8, 12, 12, 16], [1, 2], false],
  [[8, 12, 12, 16], 3, true],
  [[8, 12, 12, 16], [0, 1, 2, 3], false],
];

describe('wasm fast reductions', () => {
  const expected = new Map<string, { shape: number[]; values: Float32Array }>();

  beforeAll(async () => {
    await tf.ready();
    // Reference: the cpu backend's own kernels on the same seeded random inputs.
    await tf.setBackend('cpu');
    for (const [shape, axis, keepDims] of cases)
      for (const op of ['sum', 'mean'] as const) {
        const x = tf.randomUniform(shape, -1, 2, 'float32', 3);
        const r = tf[op](x, axis, keepDims);
        expected.set(`${op} ${shape} ${axis} ${keepDims}`, {
          shape: r.shape,
          values: (await r.data()) as Float32Array,
        });
        tf.dispose([x, r]);
      }
    await tf.setBackend('wasm');
    registerWasmFastReductions();
    registerWasmFastReductions(); // a second call changes nothing
  });

  for (const [shape, axis, keepDims] of cases)
    for (const op of ['sum', 'mean'] as const)
      it(`${op} over ${JSON.stringify(axis)} of [${shape}]${keepDims ? ', keepDims' : ''} matches the cpu backend`, async () => {
        await tf.setBackend('wasm');
        const x = tf.randomUniform(shape, -1, 2, 'float32', 3);
        const r = tf[op](x, axis, keepDims);
        const want = expected.get(`${op} ${shape} ${axis} ${keepDims}`)!;
        expect(r.shape).toEqual(want.shape);
        const got = (await r.data()) as Float32Array;
        expect(Math.max(...want.values.map(Math.abs))).toBeGreaterThan(0.01);
        // float32 sums of thousands of terms: compare relative to the size of the result
        for (let i = 0; i < got.length; i++)
          expect(Math.abs(got[i] - want.values[i])).toBeLessThan(
            1e-5 * Math.max(1, Math.abs(want.values[i])),
          );
        tf.dispose([x, r]);
      });

  it('are what the wasm backend now runs for Sum and Mean', () => {
    for (const name of ['Sum', 'Mean']) expect(tf.getKernel(name, 'wasm')).toMatchObject({ fast: true });
  });

  it('leaves integer sums to the original kernel', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const r = tf.sum(x, 0);
    expect(r.dtype).toBe('int32');
    expect(Array.from(await r.data())).toEqual([9, 12]);
    tf.dispose([x, r]);
  });

  it('has a gradient through the fast path that matches the cpu backend', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.randomUniform([4, 6, 6, 5], -1, 1, 'float32', 9);
      const w = tf.randomUniform([5], -1, 1, 'float32', 10);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.mean(a, [0, 1, 2])), w)))(x);
      const out = Array.from(await g.data());
      tf.dispose([x, w, g]);
      return out;
    };
    const cpu = await grad('cpu');
    const wasm = await grad('wasm');
    expect(Math.max(...cpu.map(Math.abs))).toBeGreaterThan(1e-4);
    wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 5));
  });

  it('does not leak tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([8, 6, 6, 4], -1, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const r = tf.mean(x, [0, 1, 2]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, r]);
  });
});
