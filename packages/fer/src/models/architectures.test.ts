import { describe, expect, it, beforeAll } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tfjs/tf.ts';
import {
  ARCHS,
  buildModel,
  DEFAULT_WIDTH,
  GRADIENT_VIEW_KERNELS,
  scaleStages,
  type View,
} from './architectures.ts';
import { seededRandom } from '../data/testing.ts';
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

  it("the gradients view: a fixed Sobel layer and ReLU in front, equal to its reference on random images", async () => {
    const rand = seededRandom(21);
    const side = 48;
    const image = Float32Array.from({ length: side * side }, () => rand());
    const expected = gradientViewReference(image, side);
    for (const arch of ARCHS) {
      const model = buildModel(arch, { numClasses: 4, seed: 3, view: 'gradients' });
      // The fixed 3x3x4 kernel, and a first learned conv that reads 4 channels, not 1: 3 more
      // 3x3 slices per filter. The rest of the network is the same.
      const first = model.layers.find((l) => l.getClassName() === 'Conv2D' && l.name !== 'view_sobel')!;
      const [kh, kw, channels, filters] = first.getWeights()[0].shape as number[];
      expect([kh, kw, channels]).toEqual([3, 3, 4]);
      expect(model.countParams()).toBe(EXPECTED_PARAMS[arch] + 4 * 9 + 3 * 9 * filters);
      const sobel = model.getLayer('view_sobel');
      expect(sobel.trainable).toBe(false);
      expect(model.trainableWeights.some((w) => w.originalName.startsWith('view_'))).toBe(false);
      expect(model.layers[1].name).toBe('view_sobel');
      const front = tfl.model({ inputs: model.inputs, outputs: model.getLayer('view_relu').output });
      const x = tf.tensor4d(image, [1, side, side, 1]);
      const y = front.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, side, side, 4]);
      const got = await y.data();
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([x, y]);
      model.dispose();
    }
    // On a left-to-right ramp the view is +x only: Sobel's 1-2-1 rows times the step of 2 pixels.
    const ramp = Float32Array.from({ length: side * side }, (_, i) => (i % side) / side);
    const inside = gradientViewReference(ramp, side).subarray((10 * side + 10) * 4, (10 * side + 10) * 4 + 4);
    expect(Array.from(inside).map((v) => Math.round(v * side * 1e4) / 1e4)).toEqual([8, 0, 0, 0]);
    // Random pixels give gradients of both signs in both directions: no channel is all zero.
    for (let c = 0; c < 4; c++) expect(expected.filter((_, i) => i % 4 === c).some((v) => v > 0.5)).toBe(true);
    expect(() => buildModel('cnn', { numClasses: 4, view: 'edges' as View })).toThrow(
      /unknown input view 'edges': one of pixels, gradients/,
    );
    const pixels = buildModel('cnn', { numClasses: 4, view: 'pixels' });
    expect(pixels.countParams()).toBe(EXPECTED_PARAMS.cnn);
    expect(pixels.layers.some((l) => l.name.startsWith('view_'))).toBe(false);
    pixels.dispose();
  });
});

/**
 * Reference for the gradients view: 3x3 correlation with each of GRADIENT_VIEW_KERNELS over
 * the image zero-padded by one pixel ('same'), then ReLU; channels last.
 */
function gradientViewReference(image: Float32Array, side: number): Float32Array {
  const k = GRADIENT_VIEW_KERNELS.length;
  const out = new Float32Array(side * side * k);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      for (let c = 0; c < k; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= side || xx < 0 || xx >= side) continue;
            sum += GRADIENT_VIEW_KERNELS[c][(dy + 1) * 3 + (dx + 1)] * image[yy * side + xx];
          }
        out[(y * side + x) * k + c] = Math.max(0, sum);
      }
  return out;
}
