// manifest.json: what a data folder says about itself. The reader trusts only the fields
// it checks here (classes, per-split totals, byte sizes and sha256 of files); the rest —
// provenance, duplicate summaries — is for people and is passed through untouched.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from './errors.ts';
import { classListProblem } from './format.ts';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestFileEntry {
  bytes: number;
  sha256: string;
}

export interface ManifestSplitEntry {
  total: number;
  per_class: Record<string, number>;
}

/** Where imported data came from; written by the importers. */
export interface ManifestSource {
  importer: 'image-folder' | 'fer2013-csv';
  path: string;
  /** Images left out on purpose, by reason (e.g. "class angry": 4953, "corrupt image": 2). */
  left_out: Record<string, number>;
}

/** The manifest the writer produces; the shared fer4 manifest has the same fields and more. */
export interface FerManifest {
  name: string;
  format_version: 1;
  label_order_note: string;
  classes: string[];
  image: { height: number; width: number; channels: 1; dtype: 'uint8'; layout: string };
  splits: Record<string, ManifestSplitEntry>;
  files: Record<string, ManifestFileEntry>;
  source?: ManifestSource;
}

/** The checked subset of a manifest that reading depends on. */
export interface ManifestView {
  classes?: readonly string[];
  splitTotals: ReadonlyMap<string, number>;
  files: ReadonlyMap<string, ManifestFileEntry>;
}

/** Reads `<dir>/manifest.json`; undefined when the folder has none (it is optional). */
export async function readManifest(dir: string): Promise<ManifestView | undefined> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw manifestError(path, `is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw manifestError(path, 'is not a JSON object');
  return {
    classes: parseClasses(json.classes, path),
    splitTotals: parseSplitTotals(json.splits, path),
    files: parseFiles(json.files, path),
  };
}

function parseClasses(value: unknown, path: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw manifestError(path, `has "classes" that is not an array of names`);
  const problem = classListProblem(value);
  if (problem) throw manifestError(path, `has a bad "classes" list: ${problem}`);
  return Object.freeze([...(value as string[])]);
}

function parseSplitTotals(value: unknown, path: string): Map<string, number> {
  const totals = new Map<string, number>();
  if (value === undefined) return totals;
  if (!isObject(value)) throw manifestError(path, `has "splits" that is not an object`);
  for (const [split, entry] of Object.entries(value)) {
    const total = isObject(entry) ? entry.total : undefined;
    if (!isCount(total)) throw manifestError(path, `has splits.${split}.total that is not a count`);
    totals.set(split, total);
  }
  return totals;
}

function parseFiles(value: unknown, path: string): Map<string, ManifestFileEntry> {
  const files = new Map<string, ManifestFileEntry>();
  if (value === undefined) return files;
  if (!isObject(value)) throw manifestError(path, `has "files" that is not an object`);
  for (const [file, entry] of Object.entries(value)) {
    const bytes = isObject(entry) ? entry.bytes : undefined;
    const sha256 = isObject(entry) ? entry.sha256 : undefined;
    if (!isCount(bytes) || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw manifestError(path, `has files["${file}"] without a byte count and a hex sha256`);
    }
    files.set(file, { bytes, sha256 });
  }
  return files;
}

function manifestError(path: string, problem: string): DataError {
  return new DataError(
    'E_DATA_MANIFEST',
    `${path} ${problem}; fix it, or re-import the data to write a fresh one`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
