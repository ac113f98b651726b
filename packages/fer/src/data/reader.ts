// Reads fer4 folders. Every check here exists because a bad copy of the data otherwise
// trains silently on shifted images or wrong labels; each error names the file and the fix.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from './errors.ts';
import {
  DEFAULT_CLASSES,
  IMAGE_BYTES,
  checkSplitName,
  sortSplitNames,
  splitFiles,
  type FerDataset,
  type FerSplit,
} from './format.ts';
import { MANIFEST_FILE, readManifest, type ManifestView } from './manifest.ts';

const SPLIT_FILE = /^(.+?)(\.labels\.u8|\.names\.txt|\.u8)$/;

/** Splits present in `dir`: every name with any of its three files, so a missing one is reported. */
export async function listSplits(dir: string): Promise<string[]> {
  const entries = await readDirOrThrow(dir);
  const splits = entries.flatMap((name) => SPLIT_FILE.exec(name)?.[1] ?? []);
  if (splits.length === 0) {
    throw new DataError(
      'E_DATA_MISSING',
      `${dir} holds no fer4 data (no <split>.u8 files); point --data at a fer4 folder, ` +
        `or create one with 'fer data import-folder' or 'fer data import-csv'`,
    );
  }
  return sortSplitNames(splits);
}

/** The class names labels index into: manifest.json `classes`, else the fer4 default. */
export async function readClasses(dir: string): Promise<readonly string[]> {
  await readDirOrThrow(dir);
  return (await readManifest(dir))?.classes ?? DEFAULT_CLASSES;
}

export async function readSplit(dir: string, split: string): Promise<FerSplit> {
  checkSplitName(split);
  const manifest = await readManifest(dir);
  return readSplitWith(dir, split, manifest);
}

/** Every split of a folder, read and checked. */
export async function readDataset(dir: string): Promise<FerDataset> {
  const manifest = await readManifest(dir);
  const splits: FerSplit[] = [];
  for (const name of await listSplits(dir)) splits.push(await readSplitWith(dir, name, manifest));
  return { dir, classes: manifest?.classes ?? DEFAULT_CLASSES, splits };
}

async function readSplitWith(
  dir: string,
  split: string,
  manifest: ManifestView | undefined,
): Promise<FerSplit> {
  const files = splitFiles(split);
  await requireFiles(dir, [files.pixels, files.labels, files.names]);
  const [pixels, labels, namesText] = await Promise.all([
    readFile(join(dir, files.pixels)),
    readFile(join(dir, files.labels)),
    readFile(join(dir, files.names), 'utf8'),
  ]);
  const at = (file: string) => `${file} in ${dir}`;
  if (pixels.length % IMAGE_BYTES !== 0) {
    throw new DataError(
      'E_DATA_PIXEL_SIZE',
      `${at(files.pixels)} is ${pixels.length} bytes, not a multiple of ${IMAGE_BYTES} (one 48x48 image); ` +
        `the file is cut mid-image or is not fer4 pixels: copy or import it again`,
    );
  }
  if (manifest)
    checkAgainstManifest(
      dir,
      split,
      { [files.pixels]: pixels.length, [files.labels]: labels.length },
      manifest,
    );
  const n = pixels.length / IMAGE_BYTES;
  if (n === 0) {
    throw new DataError(
      'E_DATA_EMPTY',
      `${at(files.pixels)} is empty; remove the split's files or import it again`,
    );
  }
  if (labels.length !== n) {
    const shorter = labels.length < n ? files.labels : files.pixels;
    throw new DataError(
      'E_DATA_LABEL_COUNT',
      `${at(files.labels)} has ${labels.length} labels but ${files.pixels} holds ${n} images; ` +
        `${shorter} looks truncated: copy or import the split again`,
    );
  }
  const names = splitLines(namesText);
  if (names.length !== n) {
    throw new DataError(
      'E_DATA_NAME_COUNT',
      `${at(files.names)} has ${names.length} lines but ${files.pixels} holds ${n} images; ` +
        `it needs exactly one name per image: copy or import the split again`,
    );
  }
  const classes = manifest?.classes ?? DEFAULT_CLASSES;
  checkLabelRange(labels, classes, at(files.labels));
  return { split, n, pixels, labels, names, classes };
}

/** sha256 of every file manifest.json lists, compared with what it records. */
export interface FileCheck {
  file: string;
  ok: boolean;
  expected: string;
  /** undefined when the file is missing. */
  actual?: string;
}

export async function verifyChecksums(dir: string): Promise<FileCheck[]> {
  const manifest = await readManifest(dir);
  const checks: FileCheck[] = [];
  for (const [file, entry] of manifest?.files ?? []) {
    const actual = await sha256File(join(dir, file)).catch(() => undefined);
    checks.push({ file, ok: actual === entry.sha256, expected: entry.sha256, actual });
  }
  return checks;
}

/** Throws E_DATA_CHECKSUM naming every file whose content changed since the manifest was written. */
export async function assertChecksums(dir: string): Promise<void> {
  const bad = (await verifyChecksums(dir)).filter((c) => !c.ok);
  if (bad.length > 0) {
    const list = bad.map((c) => `${c.file} (${c.actual ? 'content differs' : 'missing'})`).join(', ');
    throw new DataError(
      'E_DATA_CHECKSUM',
      `${bad.length} file(s) in ${dir} do not match the sha256 in ${MANIFEST_FILE}: ${list}; copy or import them again`,
    );
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function checkAgainstManifest(
  dir: string,
  split: string,
  sizes: Record<string, number>,
  manifest: ManifestView,
): void {
  for (const [file, bytes] of Object.entries(sizes)) {
    const recorded = manifest.files.get(file)?.bytes;
    if (recorded === undefined || recorded === bytes) continue;
    throw new DataError(
      bytes < recorded ? 'E_DATA_TRUNCATED' : 'E_DATA_MANIFEST',
      bytes < recorded
        ? `${file} in ${dir} is ${bytes} bytes but ${MANIFEST_FILE} records ${recorded}: the copy is truncated; copy it again`
        : `${file} in ${dir} is ${bytes} bytes but ${MANIFEST_FILE} records ${recorded}: the file changed after the manifest was written; re-import the data`,
    );
  }
  const total = manifest.splitTotals.get(split);
  const n = sizes[splitFiles(split).pixels] / IMAGE_BYTES;
  if (total !== undefined && total !== n) {
    throw new DataError(
      n < total ? 'E_DATA_TRUNCATED' : 'E_DATA_MANIFEST',
      `${splitFiles(split).pixels} in ${dir} holds ${n} images but ${MANIFEST_FILE} records ${total} for '${split}'` +
        (n < total ? ': the copy is truncated; copy it again' : '; re-import the data'),
    );
  }
}

function checkLabelRange(labels: Uint8Array, classes: readonly string[], where: string): void {
  const bad: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] >= classes.length) bad.push(i);
  if (bad.length === 0) return;
  const first = bad[0];
  throw new DataError(
    'E_DATA_LABEL_RANGE',
    `${where}: label ${labels[first]} at index ${first}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''} ` +
      `is not a class index 0..${classes.length - 1} (${classes.join(', ')}); ` +
      `the file is corrupt or manifest.json lists too few classes`,
  );
}

/** One name per line; a final newline ends the last line rather than starting an empty one. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

async function requireFiles(dir: string, files: string[]): Promise<void> {
  const entries = new Set(await readDirOrThrow(dir));
  const missing = files.filter((f) => !entries.has(f));
  if (missing.length > 0) {
    throw new DataError(
      'E_DATA_MISSING',
      `${missing.join(', ')} not found in ${dir}; each split needs ${files.join(', ')}: copy or import the split again`,
    );
  }
}

async function readDirOrThrow(dir: string): Promise<string[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new DataError('E_DATA_MISSING', `${dir} is not a folder`);
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError('E_DATA_MISSING', `data folder ${dir} does not exist; check the path`);
    }
    throw err;
  }
}
