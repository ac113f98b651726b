import { describe, expect, test } from 'vitest';
import { quantile, RateMeter, RollingPercentiles } from './rolling.ts';
import { seeded } from '../testing.ts';

describe('RateMeter', () => {
  test('measures a steady rate and decays to 0 when events stop', () => {
    const m = new RateMeter(2000);
    let t = 0;
    for (let i = 0; i < 200; i++) m.tick((t = i * 40)); // 25 per second
    expect(m.rate(t)).toBeCloseTo(25, 0);
    expect(m.rate(t + 1000)).toBeLessThan(17);
    expect(m.rate(t + 2500)).toBe(0);
  });
});

describe('RollingPercentiles', () => {
  test('quantiles of random samples match a sorted reference; only the last samples count', () => {
    const random = seeded(5);
    const p = new RollingPercentiles(100);
    const all: number[] = [];
    for (let i = 0; i < 350; i++) {
      const v = random() * 100;
      all.push(v);
      p.add(v);
    }
    const last = all.slice(-100).sort((a, b) => a - b);
    expect(p.count).toBe(100);
    expect(p.quantile(0)).toBe(last[0]);
    expect(p.quantile(1)).toBe(last[99]);
    expect(p.quantile(0.5)).toBeCloseTo((last[49] + last[50]) / 2, 12);
    expect(p.quantile(0.95)).toBeCloseTo(last[94] + (last[95] - last[94]) * 0.05, 12);
  });

  test('no samples gives NaN', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});
