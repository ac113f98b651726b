// The fer4 on-disk format and its in-memory form. One split is three files:
//   <split>.u8          N * 2304 bytes, 48x48 uint8 grey images, row-major, no header
//   <split>.labels.u8   N bytes, byte i = class index of image i
//   <split>.names.txt   N lines, line i = where image i came from (e.g. happy/15705.jpg)
// plus one manifest.json per folder (classes, counts, sha256 of every file).
import { DataError } from './errors.ts';

export const IMAGE_SIDE = 48;
export const IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE;

/** Label order of fer4. Fixed and deliberately not alphabetical: label 0 is happy. */
export const DEFAULT_CLASSES: readonly string[] = Object.freeze(['happy', 'sad', 'surprise', 'neutral']);

/** The conventional splits, in the order reports list them (training data first). */
export const STANDARD_SPLITS: readonly string[] = Object.freeze(['train', 'validation', 'test']);

export interface FerSplit {
  split: string;
  /** Number of images. */
  n: number;
  /** n * 2304 bytes; image i is pixels[i*2304, (i+1)*2304). */
  pixels: Uint8Array;
  /** n class indices into `classes`. */
  labels: Uint8Array;
  /** n source names, one per image. */
  names: string[];
  classes: readonly string[];
}

export interface FerDataset {
  dir: string;
  classes: readonly string[];
  /** Ordered train, validation, test, then any others alphabetically. */
  splits: FerSplit[];
}

export interface SplitFiles {
  pixels: string;
  labels: string;
  names: string;
}

export function splitFiles(split: string): SplitFiles {
  return { pixels: `${split}.u8`, labels: `${split}.labels.u8`, names: `${split}.names.txt` };
}

/** The 48x48 pixels of image i, as a view (no copy). */
export function image(split: FerSplit, i: number): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i >= split.n) {
    throw new RangeError(`image index ${i} is outside ${split.split} (0..${split.n - 1})`);
  }
  return split.pixels.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
}

/** Images per class, indexed by label. */
export function classCounts(split: FerSplit): number[] {
  const counts = new Array<number>(split.classes.length).fill(0);
  for (const label of split.labels) counts[label]++;
  return counts;
}

export function getSplit(dataset: FerDataset, name: string): FerSplit {
  const found = dataset.splits.find((s) => s.split === name);
  if (!found) {
    const have = dataset.splits.map((s) => s.split).join(', ');
    throw new DataError('E_DATA_MISSING', `no split '${name}' in ${dataset.dir} (it has: ${have})`);
  }
  return found;
}

/** Standard splits first so reports read train → validation → test; the rest alphabetically. */
export function sortSplitNames(names: Iterable<string>): string[] {
  const rank = (s: string) => {
    const i = STANDARD_SPLITS.indexOf(s);
    return i < 0 ? STANDARD_SPLITS.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const SPLIT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Split names become file names, so they must not carry path or odd characters. */
export function checkSplitName(split: string): void {
  if (!SPLIT_NAME.test(split)) {
    throw new DataError(
      'E_DATA_NAME',
      `'${split}' is not a valid split name: use lower-case letters, digits, '-' and '_' (e.g. train, validation, test)`,
    );
  }
}

/** Why a class list cannot label uint8 data unambiguously, or undefined when it can. */
export function classListProblem(classes: readonly unknown[]): string | undefined {
  if (classes.length === 0) return 'it is empty';
  if (classes.length > 256) return `it has ${classes.length} classes; uint8 labels allow 256`;
  if (classes.some((c) => typeof c !== 'string' || c.trim() === '' || /[\r\n]/.test(c))) {
    return 'a class name is empty, not a string, or holds a line break';
  }
  // Importers map folder names to classes case-insensitively, so case-only twins are ambiguous.
  if (new Set(classes.map((c) => String(c).toLowerCase())).size !== classes.length) {
    return 'a class name is repeated';
  }
  return undefined;
}
