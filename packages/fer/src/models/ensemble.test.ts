import { describe, expect, it } from 'vitest';
import {
  bestBias,
  bestWeights,
  CROSS_FIT_REPEATS,
  crossFitHalves,
  crossFitted,
  fitMix,
  predictMix,
  simplexGrid,
  TTA_MIN_GAIN,
  ttaCheck,
} from './ensemble.ts';
import { applyClassBias } from './registry.ts';
import { seededRandom } from '../data/testing.ts';

describe('ensemble weights', () => {
  it('enumerates the simplex grid', () => {
    expect(simplexGrid(1, 20)).toEqual([[1]]);
    expect(simplexGrid(2, 4)).toHaveLength(5);
    // C(20+3, 3) points for four members at step 1/20.
    const g = simplexGrid(4, 20);
    expect(g).toHaveLength(1771);
    for (const w of g) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('finds the mix that beats either member alone', () => {
    // Member A is right on classes 0 and 1 and confidently wrong on 2; member B is the
    // mirror image. Only a mix that gives each the say where it is right gets all three.
    const labels = new Uint8Array([0, 1, 2, 2]);
    const a = new Float32Array([0.9, 0.05, 0.05, 0.05, 0.9, 0.05, 0.6, 0.1, 0.3, 0.6, 0.1, 0.3]);
    const b = new Float32Array([0.4, 0.3, 0.3, 0.3, 0.4, 0.3, 0.05, 0.05, 0.9, 0.05, 0.05, 0.9]);
    const best = bestWeights([a, b], labels, ['x', 'y', 'z'], 10);
    expect(best.metrics.accuracy).toBe(1);
    expect(best.weights[0]).toBeGreaterThan(0);
    expect(best.weights[1]).toBeGreaterThan(0);
    const aloneA = bestWeights([a], labels, ['x', 'y', 'z'], 10);
    expect(aloneA.metrics.accuracy).toBe(0.5);
  });

  it('cross-fitting scores each half with weights fitted on the other half', () => {
    // Member A is confidently right on the even-numbered images and wrong on the odd ones;
    // B the reverse. Fitted on the evens (the first split) the mix leans to A, which gets
    // every odd image wrong, and the other way round: out of sample nothing is right, while
    // the in-sample fit gets half.
    const labels = new Uint8Array([0, 0, 1, 1]);
    const a = new Float32Array([0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1]);
    const b = new Float32Array([0.1, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.9]);
    expect(bestWeights([a, b], labels, ['x', 'y'], 20).metrics.accuracy).toBe(0.5);
    const out = crossFitted([a, b], labels, ['x', 'y'], 20, 1).plain;
    expect(out.n).toBe(4);
    expect(out.accuracy).toBe(0);
    // Members that agree and are right stay right out of sample.
    expect(crossFitted([a, a], new Uint8Array([0, 1, 1, 0]), ['x', 'y'], 20).plain.accuracy).toBe(1);
  });

  it('applies a class bias as p * exp(b), renormalised, and leaves rows alone without one', () => {
    const rows = new Float32Array([0.5, 0.5, 0.2, 0.8]);
    applyClassBias(rows, 2, [Math.log(3), 0]);
    expect(Array.from(rows)).toEqual([0.75, 0.25, expect.closeTo(3 / 7, 6), expect.closeTo(4 / 7, 6)]);
    const same = [0.1, 0.9];
    expect(applyClassBias(same, 2, undefined)).toEqual([0.1, 0.9]);
    expect(() => applyClassBias(same, 2, [0, 0, 0])).toThrow(/3 entries for 2 classes/);
  });

  it('finds the smallest class bias that recovers an under-predicted class', () => {
    // Two class-0 images lean 0.45/0.55 the wrong way; log(0.55/0.45) = 0.20, so the
    // smallest grid offset that turns them is 0.3, and it does not turn the class-1 image.
    const labels = new Uint8Array([0, 0, 0, 1]);
    const mixed = new Float32Array([0.45, 0.55, 0.45, 0.55, 0.8, 0.2, 0.2, 0.8]);
    const { bias, metrics } = bestBias(mixed, labels, ['x', 'y']);
    expect(bias).toEqual([0.3, 0]);
    expect(metrics.accuracy).toBe(1);
    const fit = fitMix([mixed], labels, ['x', 'y'], true);
    expect(fit.classBias).toEqual([0.3, 0]);
    expect(Array.from(predictMix([mixed], fit, 2))).toEqual([0, 0, 0, 1]);
    expect(Array.from(predictMix([mixed], { weights: [1] }, 2))).toEqual([1, 1, 0, 1]);
  });

  it('cross-fits the class bias too', () => {
    // The same lean in both halves: a bias fitted on either half transfers to the other.
    const labels = new Uint8Array([0, 0, 0, 0, 1, 1]);
    const mixed = new Float32Array([0.45, 0.55, 0.45, 0.55, 0.8, 0.2, 0.8, 0.2, 0.2, 0.8, 0.2, 0.8]);
    const { plain, biased } = crossFitted([mixed], labels, ['x', 'y'], 20, 1);
    expect(plain.accuracy).toBeCloseTo(4 / 6, 12);
    expect(biased.accuracy).toBe(1);
  });

  it('splits validation in halves that keep the class mix, a different split each repeat, the same each run', () => {
    const random = seededRandom(5);
    const labels = new Uint8Array(1001).map(() => (random() < 0.6 ? 0 : random() < 0.5 ? 1 : 2));
    expect(Array.from(crossFitHalves(labels, 0).subarray(0, 6))).toEqual([0, 1, 0, 1, 0, 1]);
    const splits = [1, 2, 3].map((r) => crossFitHalves(labels, r));
    for (const half of splits) {
      const size = half.reduce((a, h) => a + h, 0);
      expect(Math.abs(labels.length - 2 * size)).toBeLessThanOrEqual(1);
      for (const c of [0, 1, 2]) {
        const ofClass = Array.from(labels.keys()).filter((i) => labels[i] === c);
        const inHalf1 = ofClass.filter((i) => half[i] === 1).length;
        expect(Math.abs(ofClass.length - 2 * inHalf1)).toBeLessThanOrEqual(1);
      }
    }
    expect(splits[0]).toEqual(crossFitHalves(labels, 1));
    expect(splits[0]).not.toEqual(splits[1]);
    expect(splits[0]).not.toEqual(crossFitHalves(labels, 0));
  });

  it('pools the held-out predictions of every split', () => {
    // As above, A is right on the even-numbered images and B on the odd ones, so the first
    // split (evens against odds) gets nothing right out of sample. The random splits mix
    // evens and odds in both halves, so they get some right, and the pooled score counts them.
    const labels = new Uint8Array(40).map((_, i) => (i % 4 < 2 ? 0 : 1));
    const row = (y: number, right: boolean) => (y === 0) === right ? [0.9, 0.1] : [0.1, 0.9];
    const a = new Float32Array(Array.from(labels).flatMap((y, i) => row(y, i % 2 === 0)));
    const b = new Float32Array(Array.from(labels).flatMap((y, i) => row(y, i % 2 === 1)));
    const one = crossFitted([a, b], labels, ['x', 'y'], 20, 1).plain;
    expect([one.n, one.accuracy]).toEqual([40, 0]);
    const many = crossFitted([a, b], labels, ['x', 'y'], 20).plain;
    expect(many.n).toBe(40 * CROSS_FIT_REPEATS);
    expect(many.confusion.flat().reduce((x, v) => x + v, 0)).toBe(40 * CROSS_FIT_REPEATS);
    expect(many.accuracy).toBeGreaterThan(0);
    expect(many.accuracy).toBeLessThan(1);
  });

  it('uses flip TTA only where it pays held out by TTA_MIN_GAIN', () => {
    // Six class-0 and six class-1 images. Without TTA four of the class-0 images look exactly
    // like the class-1 ones, so no weight or bias separates them; the mirrored views fix them.
    const labels = new Uint8Array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    const looksLike1 = [0.3, 0.7];
    const plain = new Float32Array(
      Array.from(labels).flatMap((y, i) => (y === 1 || i < 8 ? looksLike1 : [0.8, 0.2])),
    );
    const tta = new Float32Array(Array.from(labels).flatMap((y) => (y === 1 ? looksLike1 : [0.8, 0.2])));
    const helps = ttaCheck(crossFitted([plain], labels, ['x', 'y']), crossFitted([tta], labels, ['x', 'y']));
    expect(helps.withTta).toBe(1);
    expect(helps.withoutTta).toBeLessThan(1 - TTA_MIN_GAIN);
    expect(helps.useTta).toBe(true);
    // The same probabilities either way: TTA would only double the work.
    const same = ttaCheck(crossFitted([plain], labels, ['x', 'y']), crossFitted([plain.slice()], labels, ['x', 'y']));
    expect(same.withTta).toBe(same.withoutTta);
    expect(same.useTta).toBe(false);
  });
});
