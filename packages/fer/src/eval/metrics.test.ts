import { describe, expect, it } from 'vitest';
import { argmaxRows, computeMetrics, confusionMatrix, metricsFromConfusion } from './metrics.ts';

describe('metrics', () => {
  // Worked by hand:
  //            pred happy sad surprise
  // true happy      5     1     0       support 6
  // true sad        2     3     1       support 6
  // true surprise   0     1     4       support 5
  const confusion = [
    [5, 1, 0],
    [2, 3, 1],
    [0, 1, 4],
  ];
  const m = metricsFromConfusion(confusion, ['happy', 'sad', 'surprise']);

  it('accuracy and balanced accuracy', () => {
    expect(m.n).toBe(17);
    expect(m.accuracy).toBeCloseTo(12 / 17, 10);
    expect(m.balancedAccuracy).toBeCloseTo((5 / 6 + 3 / 6 + 4 / 5) / 3, 10);
  });

  it('per-class precision, recall, F1 and macro-F1', () => {
    const [happy, sad, surprise] = m.perClass;
    expect(happy.precision).toBeCloseTo(5 / 7, 10);
    expect(happy.recall).toBeCloseTo(5 / 6, 10);
    expect(happy.f1).toBeCloseTo((2 * (5 / 7) * (5 / 6)) / (5 / 7 + 5 / 6), 10);
    expect(sad.precision).toBeCloseTo(3 / 5, 10);
    expect(sad.recall).toBeCloseTo(3 / 6, 10);
    expect(surprise.precision).toBeCloseTo(4 / 5, 10);
    expect(surprise.recall).toBeCloseTo(4 / 5, 10);
    expect(surprise.f1).toBeCloseTo(0.8, 10);
    expect(m.macroF1).toBeCloseTo((happy.f1 + sad.f1 + surprise.f1) / 3, 10);
  });

  it('builds the confusion matrix from labels', () => {
    const truth = [0, 0, 1, 2, 2, 1];
    const pred = [0, 1, 1, 2, 0, 1];
    expect(confusionMatrix(truth, pred, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(computeMetrics(truth, pred, ['a', 'b', 'c']).accuracy).toBeCloseTo(4 / 6, 10);
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(/out of range/);
    expect(() => confusionMatrix([0], [0, 0], 3)).toThrow(/1 labels but 2/);
  });

  it('leaves classes without support out of the macro averages', () => {
    const r = metricsFromConfusion(
      [
        [3, 1, 0],
        [0, 0, 0],
        [1, 0, 2],
      ],
      ['a', 'b', 'c'],
    );
    expect(r.balancedAccuracy).toBeCloseTo((3 / 4 + 2 / 3) / 2, 10);
  });

  it('argmax per row', () => {
    expect([...argmaxRows(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.2, 0.3]), 3)]).toEqual([1, 0]);
  });
});
