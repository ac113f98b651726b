import { describe, expect, it } from 'vitest';
import { bestWeights, crossFitted, simplexGrid } from './ensemble.ts';

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
    // B the reverse. Fitted on the evens the mix leans to A, which gets every odd image
    // wrong, and the other way round: out of sample nothing is right, while the in-sample
    // fit gets half.
    const labels = new Uint8Array([0, 0, 1, 1]);
    const a = new Float32Array([0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1]);
    const b = new Float32Array([0.1, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.9]);
    expect(bestWeights([a, b], labels, ['x', 'y'], 20).metrics.accuracy).toBe(0.5);
    const out = crossFitted([a, b], labels, ['x', 'y'], 20);
    expect(out.n).toBe(4);
    expect(out.accuracy).toBe(0);
    // Members that agree and are right stay right out of sample.
    expect(crossFitted([a, a], new Uint8Array([0, 1, 1, 0]), ['x', 'y'], 20).accuracy).toBe(1);
  });
});
