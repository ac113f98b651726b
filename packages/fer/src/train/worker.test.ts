import { describe, expect, it } from 'vitest';
import * as tf from '../tfjs/tf.ts';
import { createReplica } from './worker.ts';
import { seededRandom } from '../data/testing.ts';

describe('training replica', () => {
  it('leaks no tensors across gradient and update steps', async () => {
    const replica = await createReplica({
      type: 'init',
      workerIndex: 0,
      arch: 'vgg16',
      numClasses: 4,
      seed: 1,
      freeze: 0,
      labelSmoothing: 0.1,
      weightDecay: 0.05,
      backend: 'wasm',
    });
    const rand = seededRandom(5);
    const pixels = () => Uint8Array.from({ length: 8 * 2304 }, () => Math.floor(rand() * 256));
    const labels = new Uint8Array([0, 1, 2, 3, 0, 1, 2, 3]);
    const step = async (seed: number) => {
      const g = await replica.grad({
        type: 'grad',
        pixels: pixels(),
        labels,
        classWeights: [1, 1, 1, 1],
        augment: true,
        augmentSeed: seed,
      });
      expect(g.grads.length).toBe(replica.trainableSizes.reduce((a, b) => a + b, 0));
      expect(g.grads.some((v) => v !== 0)).toBe(true);
      replica.apply(g.grads, 1e-3);
    };
    await step(0); // Adam creates its slot variables on the first update.
    const before = tf.memory().numTensors;
    for (let s = 1; s <= 3; s++) await step(s);
    await replica.predict(pixels(), true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
