// Classification metrics from a confusion matrix (rows: true class, columns: predicted).

export interface ClassMetrics {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  n: number;
  classes: string[];
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  macroPrecision: number;
  macroRecall: number;
  perClass: ClassMetrics[];
  confusion: number[][];
}

export function confusionMatrix(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  k: number,
): number[][] {
  if (truth.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${truth.length} labels but ${predicted.length} predictions`);
  }
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (t < 0 || t >= k || p < 0 || p >= k)
      throw new Error(`confusionMatrix: class index out of range at ${i}`);
    m[t][p]++;
  }
  return m;
}

const safeDiv = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Metrics of a confusion matrix. Classes absent from the truth are left out of the macro averages. */
export function metricsFromConfusion(confusion: number[][], classes: string[]): Metrics {
  const k = classes.length;
  let n = 0;
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    n += support;
    correct += tp;
    const precision = safeDiv(tp, predicted);
    const recall = safeDiv(tp, support);
    perClass.push({
      class: classes[c],
      precision,
      recall,
      f1: safeDiv(2 * precision * recall, precision + recall),
      support,
    });
  }
  const present = perClass.filter((c) => c.support > 0);
  const mean = (f: (c: ClassMetrics) => number) =>
    safeDiv(
      present.reduce((a, c) => a + f(c), 0),
      present.length,
    );
  return {
    n,
    classes,
    accuracy: safeDiv(correct, n),
    balancedAccuracy: mean((c) => c.recall),
    macroF1: mean((c) => c.f1),
    macroPrecision: mean((c) => c.precision),
    macroRecall: mean((c) => c.recall),
    perClass,
    confusion,
  };
}

export function computeMetrics(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: string[],
): Metrics {
  return metricsFromConfusion(confusionMatrix(truth, predicted, classes.length), classes);
}

/** Index of the largest value in each row of a [n, k] row-major probability array. */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
