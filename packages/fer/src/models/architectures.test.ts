import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '../tfjs/tf.ts';
import { ARCHS, buildModel, DEFAULT_WIDTH, scaleStages } from './architectures.ts';
import { countMacs } from './flops.ts';

// Parameter counts pin the architectures: a change to any layer shows up here and must
// be mirrored in the model cards.
const EXPECTED_PARAMS = { cnn: 1_175_588, vgg16: 1_025_044, resnetv2: 2_798_500, efficientnet: 672_292 };

describe('architectures', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const arch of ARCHS) {
    it(`${arch}: 48x48x1 in, softmax over 4 classes out, ${EXPECTED_PARAMS[arch]} parameters`, async () => {
      const model = buildModel(arch, { numClasses: 4, seed: 3 });
      expect(model.inputs[0].shape).toEqual([null, 48, 48, 1]);
      expect(model.outputs[0].shape).toEqual([null, 4]);
      expect(model.countParams()).toBe(EXPECTED_PARAMS[arch]);
      const x = tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 5);
      const y = model.predict(x) as tf.Tensor;
      const probs = await y.data();
      expect(probs[0] + probs[1] + probs[2] + probs[3]).toBeCloseTo(1, 5);
      expect(countMacs(model)).toBeGreaterThan(5e6);
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  it('width scales cnn, vgg16 and efficientnet; the default width is the shipped network', async () => {
    for (const arch of ['cnn', 'vgg16', 'efficientnet'] as const) {
      const plain = buildModel(arch, { numClasses: 4 });
      const same = buildModel(arch, { numClasses: 4, width: DEFAULT_WIDTH[arch] });
      const wide = buildModel(arch, { numClasses: 4, width: DEFAULT_WIDTH[arch]! * 1.5 });
      expect(same.countParams()).toBe(EXPECTED_PARAMS[arch]);
      expect(wide.countParams()).toBeGreaterThan(1.5 * plain.countParams());
      expect(countMacs(wide)).toBeGreaterThan(1.8 * countMacs(plain));
      [plain, same, wide].forEach((m) => m.dispose());
    }
    // The cnn's stages have 32-64-128-256 filters: 40-80-160-320 at width 1.25; its head stays 256.
    const cnn = buildModel('cnn', { numClasses: 4, width: 1.25 });
    const convs = cnn.layers.filter((l) => l.getClassName() === 'Conv2D');
    expect(convs.map((l) => (l.getWeights()[0].shape as number[])[3])).toEqual([40, 40, 80, 80, 160, 160, 320]);
    expect(cnn.getLayer('fc1').getWeights()[0].shape).toEqual([3 * 3 * 320, 256]);
    cnn.dispose();
    // VGG16's first block has 64 filters: 24 at width 0.375.
    const vgg = buildModel('vgg16', { numClasses: 4, width: 0.375 });
    expect(vgg.getLayer('block1_conv1_conv').getWeights()[0].shape).toEqual([3, 3, 1, 24]);
    vgg.dispose();
  });

  it('the same seed builds the same weights', async () => {
    const a = buildModel('cnn', { numClasses: 4, seed: 9 });
    const b = buildModel('cnn', { numClasses: 4, seed: 9 });
    const c = buildModel('cnn', { numClasses: 4, seed: 10 });
    const wa = await a.weights[0].read().data();
    expect(Array.from(await b.weights[0].read().data())).toEqual(Array.from(wa));
    expect(Array.from(await c.weights[0].read().data())).not.toEqual(Array.from(wa));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('vgg16 has the 13 convolutions of VGG16 in blocks of 2-2-3-3-3', () => {
    const model = buildModel('vgg16', { numClasses: 4 });
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
    expect(convs).toHaveLength(13);
    const perBlock = [1, 2, 3, 4, 5].map((b) => convs.filter((n) => n.startsWith(`block${b}_`)).length);
    expect(perBlock).toEqual([2, 2, 3, 3, 3]);
    model.dispose();
  });

  it('resnetv2 units are pre-activation: BN and ReLU come before each unit’s first conv', () => {
    const model = buildModel('resnetv2', { numClasses: 4 });
    const names = model.layers.map((l) => l.name);
    const units = names.filter((n) => n.endsWith('_add'));
    expect(units).toHaveLength(8);
    for (const u of units) {
      const unit = u.replace(/_add$/, '');
      expect(names.indexOf(`${unit}_pre_bn`)).toBeLessThan(names.indexOf(`${unit}_conv1`));
      expect(names.indexOf(`${unit}_pre_relu`)).toBeLessThan(names.indexOf(`${unit}_conv1`));
    }
    model.dispose();
  });

  it('efficientnet is built from MBConv blocks with squeeze-and-excitation, compound-scaled', () => {
    const model = buildModel('efficientnet', { numClasses: 4 });
    const classes = model.layers.map((l) => l.getClassName());
    const depthwise = classes.filter((c) => c === 'DepthwiseConv2D').length;
    const se = model.layers.filter((l) => l.name.endsWith('_se_scale')).length;
    const stages = scaleStages(0.5, 0.5);
    const blocks = stages.reduce((a, s) => a + s.repeats, 0);
    expect(depthwise).toBe(blocks);
    expect(se).toBe(blocks);
    expect(stages.map((s) => s.filters)).toEqual([8, 16, 24, 40, 56, 96, 160]);
    model.dispose();
  });
});
