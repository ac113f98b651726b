import { describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { fusedBatchNormGradConfig } from './batchnorm-gradient.ts';

async function bnGrads(seed: number): Promise<Float32Array[]> {
  const x = tf.randomUniform([3, 5, 4, 6], -2, 2, 'float32', seed);
  const mean = tf.randomUniform([6], -0.5, 0.5, 'float32', seed + 1);
  const variance = tf.randomUniform([6], 0.5, 2, 'float32', seed + 2);
  const scale = tf.randomUniform([6], 0.5, 1.5, 'float32', seed + 3);
  const offset = tf.randomUniform([6], -1, 1, 'float32', seed + 4);
  const upstream = tf.randomUniform([3, 5, 4, 6], -1, 1, 'float32', seed + 5);
  const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
    tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), upstream));
  const grads = tf.grads(f)([x, mean, variance, scale, offset]);
  return Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
}

describe('FusedBatchNorm gradient without tile', () => {
  it('matches tfjs-core’s gradient on random inputs', async () => {
    await tf.setBackend('cpu');
    const original = tf.getGradient('FusedBatchNorm');
    const reference = await bnGrads(11);
    tf.registerGradient(fusedBatchNormGradConfig());
    try {
      const fast = await bnGrads(11);
      expect(fast).toHaveLength(5);
      fast.forEach((g, i) => {
        expect(g.length).toBe(reference[i].length);
        expect(Math.max(...reference[i].map(Math.abs))).toBeGreaterThan(0.01);
        g.forEach((v, j) => expect(v).toBeCloseTo(reference[i][j], 4));
      });
    } finally {
      if (original) tf.registerGradient(original);
    }
  });
});
