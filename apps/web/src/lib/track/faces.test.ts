import { describe, expect, test } from 'vitest';
import type { FaceResult } from '@affect/protocol';
import { FaceBook, labelOf } from './faces.ts';
import { seeded } from '../testing.ts';

function randomProbs(random: () => number, k = 4): number[] {
  const raw = Array.from({ length: k }, () => random());
  const sum = raw.reduce((a, b) => a + b);
  return raw.map((v) => v / sum);
}

function face(random: () => number): FaceResult {
  const ensemble = randomProbs(random);
  return {
    box: { x: 0, y: 0, w: 10, h: 10 },
    models: { cnn: randomProbs(random), vgg16: randomProbs(random) },
    ensemble,
    label: 'x',
    confidence: Math.max(...ensemble),
  };
}

describe('FaceBook', () => {
  test('keeps raw and smoothed probabilities per face and per model, independently for each face', () => {
    const random = seeded(8);
    const book = new FaceBook(300);
    const a1 = face(random);
    const b1 = face(random);
    book.onResult(1, a1, 0);
    book.onResult(2, b1, 0);
    const a2 = face(random);
    const s = book.onResult(1, a2, 100);
    expect(s.raw.ensemble).toEqual(a2.ensemble);
    const w = 1 - Math.exp(-100 / 300);
    s.smoothed.ensemble.forEach((v, i) =>
      expect(v).toBeCloseTo(a1.ensemble[i] + w * (a2.ensemble[i] - a1.ensemble[i]), 12),
    );
    s.smoothed.models.vgg16.forEach((v, i) =>
      expect(v).toBeCloseTo(a1.models.vgg16[i] + w * (a2.models.vgg16[i] - a1.models.vgg16[i]), 12),
    );
    // face 2 untouched by face 1's results
    expect(book.get(2)?.smoothed.ensemble).toEqual(b1.ensemble);
    expect(s.results).toBe(2);
  });

  test('history keeps the last 30 s; ended tracks are forgotten', () => {
    const random = seeded(1);
    const book = new FaceBook(300, 30_000);
    for (let t = 0; t <= 60_000; t += 100) book.onResult(1, face(random), t);
    const h = book.get(1)!.history;
    expect(h[0].t).toBe(30_000);
    expect(h.at(-1)!.t).toBe(60_000);
    book.onResult(2, face(random), 60_000);
    book.keepOnly(new Set([2]));
    expect(book.get(1)).toBeUndefined();
    expect(book.get(2)).toBeDefined();
  });

  test('changing tau applies to existing faces', () => {
    const book = new FaceBook(1000);
    const f = (p: number[]): FaceResult => ({
      box: { x: 0, y: 0, w: 1, h: 1 },
      models: {},
      ensemble: p,
      label: '',
      confidence: 0,
    });
    book.onResult(1, f([1, 0]), 0);
    book.tauMs = 0;
    expect(book.onResult(1, f([0, 1]), 10).smoothed.ensemble).toEqual([0, 1]);
  });
});

test('labelOf names the most likely class', () => {
  expect(labelOf([0.1, 0.6, 0.2, 0.1], ['happy', 'sad', 'surprise', 'neutral'])).toEqual({
    label: 'sad',
    confidence: 0.6,
  });
  expect(labelOf([], ['happy'])).toEqual({ label: '', confidence: 0 });
});
