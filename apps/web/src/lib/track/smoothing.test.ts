import { describe, expect, test } from 'vitest';
import { argmax, emaWeight, ProbabilitySmoother } from './smoothing.ts';
import { seeded } from '../testing.ts';

describe('ProbabilitySmoother', () => {
  test('the first sample passes through unchanged', () => {
    const s = new ProbabilitySmoother(300);
    expect(s.update([0.1, 0.2, 0.3, 0.4], 1000)).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  test('a step change has moved 63% of the way after tau, whatever the result rate', () => {
    for (const fps of [5, 12, 30, 60]) {
      const s = new ProbabilitySmoother(400);
      s.update([1, 0], 0);
      let out: number[] = [];
      const dt = 1000 / fps;
      for (let t = dt; t <= 400 + 1e-9; t += dt) out = s.update([0, 1], t);
      // The last sample may fall a little before 400 ms at low rates.
      const elapsed = Math.floor(400 / dt) * dt;
      expect(out[1]).toBeCloseTo(1 - Math.exp(-elapsed / 400), 9);
      expect(out[0] + out[1]).toBeCloseTo(1, 12);
    }
  });

  test('random probability vectors stay probability vectors and lag behind the raw ones', () => {
    const random = seeded(3);
    const s = new ProbabilitySmoother(250);
    let t = 0;
    for (let i = 0; i < 500; i++) {
      const raw = [random(), random(), random(), random()];
      const sum = raw.reduce((a, b) => a + b);
      const p = raw.map((v) => v / sum);
      t += 20 + random() * 100;
      const out = s.update(p, t);
      expect(out.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
      out.forEach((v) => expect(v).toBeGreaterThanOrEqual(0));
    }
  });

  test('tau 0 turns smoothing off', () => {
    const s = new ProbabilitySmoother(0);
    s.update([1, 0], 0);
    expect(s.update([0.2, 0.8], 10)).toEqual([0.2, 0.8]);
    expect(emaWeight(10, 0)).toBe(1);
  });
});

test('argmax picks the first of equal maxima', () => {
  expect(argmax([0.1, 0.5, 0.5, 0.2])).toBe(1);
  expect(argmax([0.9])).toBe(0);
});
