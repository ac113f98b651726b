// Exact-duplicate analysis by pixel hash. FER2013 holds many byte-identical images, and the
// fer4 splits were cut without regard to them, so an image in validation or test may also
// sit in train: evaluating on those measures memory, not generalisation.
import { createHash } from 'node:crypto';
import { getSplit, image, type FerSplit } from './format.ts';
import { readDataset } from './reader.ts';

/**
 * Images whose pixel standard deviation is below this are blank (no face). Matches the
 * threshold behind duplicates.json; every constant image, e.g. all black, is below it.
 */
export const BLANK_STD_THRESHOLD = 3;

export interface ImageRef {
  split: string;
  index: number;
  label: number;
}

export interface DuplicateGroup {
  /** sha1 of the 2304 pixel bytes shared by every member. */
  hash: string;
  /** Two or more images, ordered by split order of the input then index. */
  members: ImageRef[];
}

/** sha1 hex of one image's pixel bytes: equal hashes mean identical pixels. */
export function hashImage(pixels: Uint8Array): string {
  return createHash('sha1').update(pixels).digest('hex');
}

/** sha1 hex of every image of a split, by index. */
export function hashImages(split: FerSplit): string[] {
  const hashes = new Array<string>(split.n);
  for (let i = 0; i < split.n; i++) hashes[i] = hashImage(image(split, i));
  return hashes;
}

export function isBlank(pixels: Uint8Array): boolean {
  let sum = 0;
  let sumSq = 0;
  for (const p of pixels) {
    sum += p;
    sumSq += p * p;
  }
  const mean = sum / pixels.length;
  return sumSq / pixels.length - mean * mean < BLANK_STD_THRESHOLD * BLANK_STD_THRESHOLD;
}

export function blankIndices(split: FerSplit): number[] {
  const blank: number[] = [];
  for (let i = 0; i < split.n; i++) if (isBlank(image(split, i))) blank.push(i);
  return blank;
}

/** Indices of `target` whose pixels also occur in any of `others` (pass target itself and all match). */
export function indicesAlsoIn(target: FerSplit, others: readonly FerSplit[]): Set<number> {
  const elsewhere = new Set(others.flatMap(hashImages));
  const found = new Set<number>();
  hashImages(target).forEach((hash, i) => {
    if (elsewhere.has(hash)) found.add(i);
  });
  return found;
}

/** Groups of two or more identical images, within and across the given splits. */
export function findDuplicateGroups(splits: readonly FerSplit[]): DuplicateGroup[] {
  const byHash = new Map<string, ImageRef[]>();
  for (const split of splits) {
    hashImages(split).forEach((hash, index) => {
      const ref = { split: split.split, index, label: split.labels[index] };
      const members = byHash.get(hash);
      if (members) members.push(ref);
      else byHash.set(hash, [ref]);
    });
  }
  return [...byHash]
    .filter(([, members]) => members.length > 1)
    .map(([hash, members]) => ({ hash, members }));
}

export function hasConflictingLabels(group: DuplicateGroup): boolean {
  return group.members.some((m) => m.label !== group.members[0].label);
}

export function spansSplits(group: DuplicateGroup): boolean {
  return group.members.some((m) => m.split !== group.members[0].split);
}

/**
 * Indices of `target` safe to train on when `held` are the evaluation splits: every image
 * that also occurs in a held-out split is dropped (else evaluation rewards memorising it),
 * and so is every blank image (it has no face, and the fer4 blanks carry three labels).
 */
export function cleanIndices(target: FerSplit, held: readonly FerSplit[]): number[] {
  const leaked = indicesAlsoIn(target, held);
  const keep: number[] = [];
  for (let i = 0; i < target.n; i++) {
    if (!leaked.has(i) && !isBlank(image(target, i))) keep.push(i);
  }
  return keep;
}

/** Clean train indices of a fer4 folder: no image that is also in another split, no blanks. */
export async function cleanTrainIndices(dataDir: string, trainSplit = 'train'): Promise<number[]> {
  const dataset = await readDataset(dataDir);
  const train = getSplit(dataset, trainSplit);
  return cleanIndices(
    train,
    dataset.splits.filter((s) => s !== train),
  );
}
