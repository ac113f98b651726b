import { describe, expect, it } from 'vitest';
import { bestWeights, simplexGrid } from './ensemble.ts';

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
});
