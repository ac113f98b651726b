import { describe, expect, it } from 'vitest';
import { metricsFromConfusion } from '../eval/metrics.ts';
import {
  mostOverPredicted,
  pairConfusions,
  pairNote,
  predictionShares,
  sumConfusions,
  topConfusions,
} from './discussion.ts';

const classes = ['happy', 'sad', 'surprise', 'neutral'];
// Worked by hand. Row supports: 50, 40, 30, 40 (n = 160).
const m = metricsFromConfusion(
  [
    [40, 2, 6, 2],
    [1, 24, 0, 15],
    [3, 0, 25, 2],
    [2, 10, 1, 27],
  ],
  classes,
);

describe('confusions', () => {
  it('ranks off-diagonal cells by share of the true class', () => {
    const top = topConfusions(m, 3);
    expect(top.map((c) => `${c.truth}>${c.predicted}`)).toEqual([
      'sad>neutral',
      'neutral>sad',
      'happy>surprise',
    ]);
    expect(top[0]).toMatchObject({ count: 15, support: 40 });
    expect(top[0].rate).toBeCloseTo(15 / 40, 12);
    expect(top[2].rate).toBeCloseTo(6 / 50, 12);
  });

  it('adds both directions of a pair', () => {
    const [first, second] = pairConfusions(m);
    expect(first).toMatchObject({ a: 'sad', b: 'neutral', aToB: 15, bToA: 10 });
    expect(first.rate).toBeCloseTo(25 / 80, 12);
    expect(second).toMatchObject({ a: 'happy', b: 'surprise', aToB: 6, bToA: 3 });
    expect(second.rate).toBeCloseTo(9 / 80, 12);
    expect(pairConfusions(m)).toHaveLength(6);
  });

  it('sums matrices cell by cell and refuses different classes', () => {
    const s = sumConfusions([m, m]);
    expect(s.confusion[1][3]).toBe(30);
    expect(s.confusion[0][0]).toBe(80);
    expect(() => sumConfusions([m, metricsFromConfusion([[1]], ['happy'])])).toThrow(/classes differ/);
  });

  it('finds the class predicted out of proportion', () => {
    const shares = predictionShares(m);
    expect(shares[3].truth).toBeCloseTo(40 / 160, 12);
    expect(shares[3].predicted).toBeCloseTo(46 / 160, 12);
    expect(mostOverPredicted(m)).toBeUndefined(); // 3.75 points: under the 5-point bar
    const biased = metricsFromConfusion(
      [
        [10, 0, 0, 40],
        [0, 30, 0, 10],
        [0, 0, 30, 0],
        [0, 0, 0, 40],
      ],
      classes,
    );
    expect(mostOverPredicted(biased)).toMatchObject({
      class: 'neutral',
      predicted: 90 / 160,
      truth: 40 / 160,
    });
  });

  it('has a note for every pair of the fer4 classes, whatever the order', () => {
    for (let a = 0; a < 4; a++)
      for (let b = a + 1; b < 4; b++)
        expect(pairNote(classes[b], classes[a])).toBe(pairNote(classes[a], classes[b]));
    expect(pairNote('sad', 'neutral')).toMatch(/low-arousal/);
    expect(pairNote('angry', 'disgust')).toBeUndefined();
  });
});
