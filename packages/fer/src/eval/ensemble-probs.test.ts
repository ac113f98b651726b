import { beforeAll, describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { IMAGE_BYTES, IMAGE_SIDE } from '../data/format.ts';
import type { LoadedModel } from '../models/registry.ts';
import { mulberry32 } from '@affect/gpu';
import { ensembleProbs } from './evaluate.ts';
import { predictProbs, predictProbsTta, useCpuBackend } from './predict.ts';

const CLASSES = ['happy', 'sad', 'surprise', 'neutral'];

/** A small seeded conv net over 48x48x1 with a 4-way softmax: quick on the cpu backend. */
function smallNet(seed: number): LayersModel {
  const init = () => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [IMAGE_SIDE, IMAGE_SIDE, 1],
        filters: 4,
        kernelSize: 5,
        strides: 4,
        activation: 'relu',
        kernelInitializer: init(),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: CLASSES.length, activation: 'softmax', kernelInitializer: init() }),
    ],
  });
}

function member(name: string, model: LayersModel): LoadedModel {
  return { name, model, classes: CLASSES, metadata: {} };
}

/** A stand-in for a member that must not be run: any call to predict fails the test. */
function unrunnable(): LoadedModel {
  const model = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [IMAGE_SIDE, IMAGE_SIDE, 1] })],
  });
  model.predict = () => {
    throw new Error('a weight-0 member was run');
  };
  return member('skipped', model);
}

describe('ensembleProbs', () => {
  let a: LoadedModel;
  let b: LoadedModel;
  let pixels: Uint8Array;
  beforeAll(async () => {
    await useCpuBackend('cpu');
    a = member('a', smallNet(1));
    b = member('b', smallNet(2));
    const rand = mulberry32(7);
    pixels = new Uint8Array(3 * IMAGE_BYTES).map(() => Math.floor(rand() * 256));
  });

  it('is the weighted mean of the members, with and without flip TTA', async () => {
    const pa = await predictProbs(a.model, pixels);
    const pb = await predictProbs(b.model, pixels);
    const mixed = await ensembleProbs([a, b], [0.25, 0.75], pixels, false);
    expect(mixed).toHaveLength(3 * 4);
    mixed.forEach((v, i) => expect(v).toBeCloseTo(0.25 * pa[i] + 0.75 * pb[i], 6));
    const ta = await predictProbsTta(a.model, pixels);
    const tb = await predictProbsTta(b.model, pixels);
    const tta = await ensembleProbs([a, b], [0.25, 0.75], pixels, true);
    tta.forEach((v, i) => expect(v).toBeCloseTo(0.25 * ta[i] + 0.75 * tb[i], 6));
    // The flip changes the answer, so the TTA path really ran.
    expect(Array.from(tta)).not.toEqual(Array.from(mixed));
  });

  it('never runs a weight-0 member (the stream server skips it too)', async () => {
    const skipped = unrunnable();
    await expect(ensembleProbs([a, skipped], [0.5, 0.5], pixels, false)).rejects.toThrow(/weight-0/);
    const alone = await predictProbs(a.model, pixels);
    const mixed = await ensembleProbs([skipped, a], [0, 1], pixels, true);
    const tta = await predictProbsTta(a.model, pixels);
    expect(Array.from(mixed)).toEqual(Array.from(tta));
    expect(Array.from(await ensembleProbs([a, skipped], [1, 0], pixels, false))).toEqual(Array.from(alone));
  });
});
