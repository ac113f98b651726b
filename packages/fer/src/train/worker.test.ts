import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tfjs/tf.ts';
import { augmentParams } from '@affect/gpu';
import { batchAugmentParams, createReplica } from './worker.ts';
import { seededRandom } from '../data/testing.ts';
import type { WorkerInit } from './messages.ts';

/** A replica's init message: vgg16, seed 1, on wasm, unless `o` says otherwise. */
const replicaInit = (o: Partial<WorkerInit>): WorkerInit => ({
  type: 'init',
  workerIndex: 0,
  arch: 'vgg16',
  numClasses: 4,
  seed: 1,
  freeze: 0,
  labelSmoothing: 0.1,
  weightDecay: 0.05,
  backend: 'wasm',
  ...o,
});

describe('training replica', () => {
  it('leaks no tensors across gradient and update steps', async () => {
    const replica = await createReplica(replicaInit({}));
    const rand = seededRandom(5);
    const pixels = () => Uint8Array.from({ length: 8 * 2304 }, () => Math.floor(rand() * 256));
    const labels = new Uint8Array([0, 1, 2, 3, 0, 1, 2, 3]);
    const step = async (seed: number) => {
      const g = await replica.grad({
        type: 'grad',
        pixels: pixels(),
        labels,
        classWeights: [1, 1, 1, 1],
        augment: { seed, eraseProbability: seed % 2 === 0 ? 0 : 0.5 },
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

  it("draws a batch's augmentation from the request's seed with the erasing it asks for", () => {
    const plain = batchAugmentParams(400, { seed: 17, eraseProbability: 0 });
    expect(plain).toEqual(augmentParams(400, 17));
    expect(plain.some((p) => p.erase)).toBe(false);
    const erased = batchAugmentParams(400, { seed: 17, eraseProbability: 1 });
    expect(erased.every((p) => p.erase)).toBe(true);
    const half = batchAugmentParams(400, { seed: 17, eraseProbability: 0.5 }).filter((p) => p.erase).length;
    expect(half).toBeGreaterThan(150);
    expect(half).toBeLessThan(250);
  });

  it('re-estimates batch-norm statistics as the mean of batch statistics (precise BN)', async () => {
    const replica = await createReplica(replicaInit({ seed: 2, labelSmoothing: 0, weightDecay: 0 }));
    const model = replica.model;
    const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const first = bnLayers[0];
    // Stale statistics, far from anything the data gives.
    const stale = (name: string) =>
      name.includes('moving_mean') ? 50 : name.includes('moving_variance') ? 1e-3 : undefined;
    for (const l of bnLayers) {
      l.setWeights(
        l.weights.map((w) =>
          stale(w.originalName) === undefined
            ? w.read()
            : tf.fill(w.shape as number[], stale(w.originalName)!),
        ),
      );
    }
    const trainable = await Promise.all(model.trainableWeights.map((w) => w.read().data()));
    const rand = seededRandom(11);
    const batch = 8;
    const batches = 3;
    const pixels = Uint8Array.from({ length: batches * batch * 2304 }, () => Math.floor(rand() * 256));

    expect(replica.recalibrateBatchNorm(pixels, batch)).toBe(batches);

    // The first batch norm's input is a conv of the image alone, so its expected mean is
    // computable directly: the mean over batches of each batch's per-channel mean.
    const probe = tfl.model({ inputs: model.inputs, outputs: first.input as tfl.SymbolicTensor });
    const x = tf.div(tf.tensor4d(Float32Array.from(pixels), [batches * batch, 48, 48, 1]), 255);
    const perBatch = tf.tidy(() =>
      tf.stack(
        Array.from({ length: batches }, (_, b) =>
          tf.mean(
            probe.predict(tf.slice(x, [b * batch, 0, 0, 0], [batch, 48, 48, 1])) as tf.Tensor4D,
            [0, 1, 2],
          ),
        ),
      ),
    );
    const expected = (await tf.mean(perBatch, 0).data()) as Float32Array;
    expect(first.weights.map((w) => w.originalName)).toEqual([
      expect.stringMatching(/gamma/),
      expect.stringMatching(/beta/),
      expect.stringMatching(/moving_mean/),
      expect.stringMatching(/moving_variance/),
    ]);
    const [, , movingMean, movingVar] = first.getWeights();
    const got = (await movingMean.data()) as Float32Array;
    expected.forEach((e, c) => expect(got[c]).toBeCloseTo(e, 4));
    expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(1e-3); // a real signal
    const variance = (await movingVar.data()) as Float32Array;
    expect(variance.every((v) => v > 1e-3 && v !== 1e-3)).toBe(true);
    // Every other batch norm moved off its stale values too; weights and momentum are untouched.
    for (const l of bnLayers.slice(1)) {
      const mean = (await l.getWeights()[2].data()) as Float32Array;
      expect(mean.some((v) => v !== 50)).toBe(true);
    }
    const after = await Promise.all(model.trainableWeights.map((w) => w.read().data()));
    after.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(trainable[i])));
    expect((first as unknown as { momentum: number }).momentum).toBe(0.99);
    tf.dispose([x, perBatch]);
  });

  it('a gradients-view replica trains every weight but its fixed Sobel layer', async () => {
    const replica = await createReplica(
      replicaInit({ arch: 'cnn', seed: 4, width: 0.25, view: 'gradients' }),
    );
    const model = replica.model;
    const sobel = model.getLayer('view_sobel');
    const kernel = Array.from(await sobel.getWeights()[0].data());
    const firstConv = model.getLayer('s1_c1_conv');
    const convBefore = Array.from(await firstConv.getWeights()[0].data());
    const rand = seededRandom(9);
    const g = await replica.grad({
      type: 'grad',
      pixels: Uint8Array.from({ length: 8 * 2304 }, () => Math.floor(rand() * 256)),
      labels: new Uint8Array([0, 1, 2, 3, 0, 1, 2, 3]),
      classWeights: [1, 1, 1, 1],
      augment: { seed: 3, eraseProbability: 0 },
    });
    replica.apply(g.grads, 1e-2);
    expect(Array.from(await sobel.getWeights()[0].data())).toEqual(kernel);
    expect(Array.from(await firstConv.getWeights()[0].data())).not.toEqual(convBefore);
  });
});
