// The numbers `fer data stats` prints, as one plain object so --json and the table agree.
import {
  blankIndices,
  findDuplicateGroups,
  hasConflictingLabels,
  hashImages,
  spansSplits,
  type DuplicateGroup,
  type ImageRef,
} from './duplicates.ts';
import { classCounts, type FerDataset } from './format.ts';

export interface SplitStats {
  split: string;
  n: number;
  /** Images per class, by label. */
  perClass: number[];
  /** Largest class count over smallest; null when a class is absent (ratio undefined). */
  imbalance: number | null;
  /** Copies beyond the first of images repeated inside this split. */
  redundantCopies: number;
}

/** How many images of `split` also occur in any of `alsoIn` (earlier splits in report order). */
export interface Leakage {
  split: string;
  alsoIn: string[];
  count: number;
  n: number;
  indices: number[];
}

export interface DataStats {
  dir: string;
  classes: readonly string[];
  splits: SplitStats[];
  duplicates: {
    groups: number;
    withinOneSplit: number;
    spanningSplits: number;
    conflictingLabels: DuplicateGroup[];
  };
  blank: ImageRef[];
  leakage: Leakage[];
}

export function computeStats(dataset: FerDataset): DataStats {
  const groups = findDuplicateGroups(dataset.splits);
  const spanning = groups.filter(spansSplits).length;
  return {
    dir: dataset.dir,
    classes: dataset.classes,
    splits: dataset.splits.map((s) => {
      const perClass = classCounts(s);
      return {
        split: s.split,
        n: s.n,
        perClass,
        imbalance: imbalance(perClass),
        redundantCopies: redundantCopies(groups, s.split),
      };
    }),
    duplicates: {
      groups: groups.length,
      withinOneSplit: groups.length - spanning,
      spanningSplits: spanning,
      conflictingLabels: groups.filter(hasConflictingLabels),
    },
    blank: dataset.splits.flatMap((s) =>
      blankIndices(s).map((index) => ({ split: s.split, index, label: s.labels[index] })),
    ),
    leakage: leakage(dataset),
  };
}

function imbalance(perClass: number[]): number | null {
  const min = Math.min(...perClass);
  return min === 0 ? null : Math.max(...perClass) / min;
}

function redundantCopies(groups: DuplicateGroup[], split: string): number {
  let copies = 0;
  for (const g of groups) copies += Math.max(0, g.members.filter((m) => m.split === split).length - 1);
  return copies;
}

/**
 * For each split after the first: its images also in each earlier split, and — when there
 * are several earlier splits — in any of them (the set a clean evaluation must drop).
 */
function leakage(dataset: FerDataset): Leakage[] {
  const hashes = dataset.splits.map((s) => hashImages(s));
  const sets = hashes.map((h) => new Set(h));
  const result: Leakage[] = [];
  dataset.splits.forEach((split, k) => {
    const earlier = dataset.splits.slice(0, k).map((_, j) => j);
    const combos = earlier.length > 1 ? [...earlier.map((j) => [j]), earlier] : earlier.map((j) => [j]);
    for (const combo of combos) {
      const indices = hashes[k].flatMap((h, i) => (combo.some((j) => sets[j].has(h)) ? [i] : []));
      result.push({
        split: split.split,
        alsoIn: combo.map((j) => dataset.splits[j].split),
        count: indices.length,
        n: split.n,
        indices,
      });
    }
  });
  return result;
}
