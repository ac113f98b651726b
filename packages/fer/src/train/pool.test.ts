import { describe, expect, it } from 'vitest';
import { shares } from './pool.ts';

describe('shares', () => {
  it('covers every unit once, in order, with sizes differing by at most one', () => {
    for (const [total, k] of [
      [7, 2],
      [4671, 2],
      [5, 3],
      [1, 2],
      [0, 2],
      [10, 1],
    ]) {
      const ranges = shares(total, k);
      expect(ranges).toHaveLength(k);
      expect(ranges[0][0]).toBe(0);
      expect(ranges[k - 1][1]).toBe(total);
      for (let i = 1; i < k; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1]);
      const sizes = ranges.map(([from, to]) => to - from);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('gives 4671 validation images to two workers as 2335 and 2336', () => {
    expect(shares(4671, 2)).toEqual([
      [0, 2335],
      [2335, 4671],
    ]);
  });
});
