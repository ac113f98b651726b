// Which classes get confused, read off confusion matrices (rows: true class, columns:
// predicted), and the short explanations the report attaches to each pair.
import type { Metrics } from '../eval/metrics.ts';

type Matrix = Pick<Metrics, 'classes' | 'confusion'>;

export interface Confusion {
  truth: string;
  predicted: string;
  count: number;
  /** Share of the true class's images that went to `predicted`. */
  rate: number;
  support: number;
}

export interface PairConfusion {
  a: string;
  b: string;
  aToB: number;
  bToA: number;
  /** (aToB + bToA) / (support a + support b). */
  rate: number;
}

const rowSum = (row: number[]) => row.reduce((s, v) => s + v, 0);

/** Off-diagonal cells, most confused first (by share of the true class, then count). */
export function topConfusions(m: Matrix, limit = 3): Confusion[] {
  const cells: Confusion[] = [];
  m.confusion.forEach((row, i) => {
    const support = rowSum(row);
    row.forEach((count, j) => {
      if (i !== j && count > 0)
        cells.push({ truth: m.classes[i], predicted: m.classes[j], count, rate: count / support, support });
    });
  });
  return cells.sort((x, y) => y.rate - x.rate || y.count - x.count).slice(0, limit);
}

/** Both directions of each class pair together, most confused first. */
export function pairConfusions(m: Matrix): PairConfusion[] {
  const k = m.classes.length;
  const support = m.confusion.map(rowSum);
  const pairs: PairConfusion[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const aToB = m.confusion[a][b];
      const bToA = m.confusion[b][a];
      const n = support[a] + support[b];
      pairs.push({ a: m.classes[a], b: m.classes[b], aToB, bToA, rate: n === 0 ? 0 : (aToB + bToA) / n });
    }
  }
  return pairs.sort((x, y) => y.rate - x.rate || y.aToB + y.bToA - (x.aToB + x.bToA));
}

/** The cell-wise sum of matrices over the same classes. */
export function sumConfusions(ms: readonly Matrix[]): Matrix {
  if (ms.length === 0) throw new Error('sumConfusions: no matrices');
  const classes = ms[0].classes;
  for (const m of ms) {
    if (m.classes.join() !== classes.join())
      throw new Error(`sumConfusions: classes differ (${m.classes.join(',')} vs ${classes.join(',')})`);
  }
  return {
    classes,
    confusion: classes.map((_, i) => classes.map((_, j) => ms.reduce((s, m) => s + m.confusion[i][j], 0))),
  };
}

export interface PredictionShare {
  class: string;
  /** Share of images whose true class this is. */
  truth: number;
  /** Share of images the model assigns to it. */
  predicted: number;
}

export function predictionShares(m: Matrix): PredictionShare[] {
  const n = m.confusion.reduce((s, row) => s + rowSum(row), 0);
  return m.classes.map((c, j) => ({
    class: c,
    truth: n === 0 ? 0 : rowSum(m.confusion[j]) / n,
    predicted: n === 0 ? 0 : m.confusion.reduce((s, row) => s + row[j], 0) / n,
  }));
}

/** The class predicted most out of proportion to its true share, if any by over 5 points. */
export function mostOverPredicted(m: Matrix): PredictionShare | undefined {
  const shares = predictionShares(m).sort((x, y) => y.predicted - y.truth - (x.predicted - x.truth));
  return shares[0] && shares[0].predicted - shares[0].truth > 0.05 ? shares[0] : undefined;
}

/**
 * Why a pair of fer4 classes gets confused: visual reasons that are plausible for 48x48 gray
 * FER2013 faces, stated as such. Keyed by the two class names in alphabetical order.
 */
const PAIR_NOTES: Record<string, string> = {
  'neutral|sad':
    'Sad and neutral are both low-arousal faces. What separates them — mouth corners turned slightly down, ' +
    'inner brows raised — spans a few pixels at 48×48, many FER2013 faces labelled sad are only mildly sad, ' +
    'and a neutral face with a downturned resting mouth looks the same to a pixel model.',
  'happy|surprise':
    'Happy and surprise share an open mouth and raised cheeks in many images (a laugh against an "O" of ' +
    'surprise); the eyes and brow height tell them apart, and blur and head pose at 48×48 often hide those.',
  'neutral|surprise':
    'Mild surprise is mostly raised brows and wider eyes with the mouth closed or barely open, which is close ' +
    'to a neutral face; only the brow-to-eye distance differs.',
  'happy|neutral':
    'A closed-mouth, slight smile is labelled happy in FER2013 but differs from a neutral face by a small ' +
    'curve of the lips, easily lost at 48×48.',
  'sad|surprise':
    'Sad and surprise share few visual cues; confusions here more likely come from distressed or fearful-' +
    'looking faces (fear is one of the FER2013 classes fer4 leaves out) or from label noise. Look at the ' +
    'images before drawing conclusions.',
  'happy|sad':
    'Happy and sad look nothing alike; confusions between them point to grimaces, occlusions, label noise ' +
    'or an undertrained model rather than a subtle visual difference.',
};

export function pairNote(a: string, b: string): string | undefined {
  return PAIR_NOTES[[a, b].sort().join('|')];
}
