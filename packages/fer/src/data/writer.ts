// Writes fer4 folders: the three files per split, then manifest.json last, so a folder
// with a manifest is a folder whose data files were completely written.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DataError } from './errors.ts';
import {
  IMAGE_BYTES,
  IMAGE_SIDE,
  checkSplitName,
  classListProblem,
  sortSplitNames,
  splitFiles,
} from './format.ts';
import { MANIFEST_FILE, type FerManifest, type ManifestSource } from './manifest.ts';

/** What one split needs to be written; `n` and `classes` follow from it and the dataset. */
export interface SplitData {
  split: string;
  pixels: Uint8Array;
  labels: Uint8Array;
  names: readonly string[];
}

export interface DatasetToWrite {
  classes: readonly string[];
  splits: readonly SplitData[];
  source?: ManifestSource;
}

export interface WriteOptions {
  /** Replace fer4 files already in the folder (stale splits included). Default: refuse. */
  overwrite?: boolean;
}

const FER4_FILE = /(\.u8|\.names\.txt)$/;

export async function writeDataset(
  dir: string,
  data: DatasetToWrite,
  options: WriteOptions = {},
): Promise<FerManifest> {
  checkDataset(data);
  await prepareFolder(dir, options.overwrite ?? false);
  const files: FerManifest['files'] = {};
  for (const split of data.splits) {
    const names = splitFiles(split.split);
    const contents: Array<[string, Uint8Array | string]> = [
      [names.pixels, split.pixels],
      [names.labels, split.labels],
      [names.names, split.names.map((n) => `${n}\n`).join('')],
    ];
    for (const [file, content] of contents) {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      await writeFile(join(dir, file), bytes);
      files[file] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
  }
  const manifest = buildManifest(dir, data, files);
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function buildManifest(dir: string, data: DatasetToWrite, files: FerManifest['files']): FerManifest {
  const splits: FerManifest['splits'] = {};
  for (const split of sortSplitNames(data.splits.map((s) => s.split))) {
    const { labels } = data.splits.find((s) => s.split === split)!;
    const perClass = Object.fromEntries(data.classes.map((c) => [c, 0]));
    for (const label of labels) perClass[data.classes[label]]++;
    splits[split] = { total: labels.length, per_class: perClass };
  }
  return {
    name: basename(resolve(dir)),
    format_version: 1,
    label_order_note: `labels are uint8 indices into 'classes' (${data.classes.map((c, i) => `${i}=${c}`).join(', ')})`,
    classes: [...data.classes],
    image: {
      height: IMAGE_SIDE,
      width: IMAGE_SIDE,
      channels: 1,
      dtype: 'uint8',
      layout: 'row-major, N x 48 x 48, no header',
    },
    splits,
    files,
    ...(data.source ? { source: data.source } : {}),
  };
}

/** The writer refuses what the reader would reject, so a written folder always reads back. */
function checkDataset(data: DatasetToWrite): void {
  const problem = classListProblem(data.classes);
  if (problem)
    throw new DataError('E_DATA_CLASSES', `cannot write classes ${JSON.stringify(data.classes)}: ${problem}`);
  const seen = new Set<string>();
  for (const s of data.splits) {
    checkSplitName(s.split);
    if (seen.has(s.split)) throw new DataError('E_DATA_NAME', `split '${s.split}' is given twice`);
    seen.add(s.split);
    checkSplitData(s, data.classes.length);
  }
  if (data.splits.length === 0)
    throw new DataError('E_DATA_EMPTY', 'nothing to write: no splits hold images');
}

function checkSplitData(s: SplitData, classCount: number): void {
  const n = s.pixels.length / IMAGE_BYTES;
  const fail = (code: ConstructorParameters<typeof DataError>[0], what: string) => {
    throw new DataError(code, `cannot write split '${s.split}': ${what}`);
  };
  if (!Number.isInteger(n))
    fail('E_DATA_PIXEL_SIZE', `${s.pixels.length} pixel bytes is not a whole number of images`);
  if (n === 0) fail('E_DATA_EMPTY', 'it holds no images');
  if (s.labels.length !== n) fail('E_DATA_LABEL_COUNT', `${s.labels.length} labels for ${n} images`);
  if (s.names.length !== n) fail('E_DATA_NAME_COUNT', `${s.names.length} names for ${n} images`);
  const badLabel = s.labels.findIndex((l) => l >= classCount);
  if (badLabel >= 0)
    fail('E_DATA_LABEL_RANGE', `label ${s.labels[badLabel]} at index ${badLabel} ≥ ${classCount} classes`);
  const badName = s.names.findIndex((name) => /[\r\n]/.test(name));
  if (badName >= 0)
    fail('E_DATA_NAME', `name at index ${badName} holds a line break, which names.txt cannot store`);
}

async function prepareFolder(dir: string, overwrite: boolean): Promise<void> {
  await mkdir(dir, { recursive: true });
  const existing = (await readdir(dir)).filter((f) => f === MANIFEST_FILE || FER4_FILE.test(f));
  if (existing.length === 0) return;
  if (!overwrite) {
    throw new DataError(
      'E_DATA_OUT_EXISTS',
      `${dir} already holds fer4 data (${existing.slice(0, 4).join(', ')}${existing.length > 4 ? ', ...' : ''}); ` +
        `choose an empty folder or ask to overwrite it (--force)`,
    );
  }
  // Manifest first: if writing stops half-way, no manifest vouches for a mix of old and new files.
  await rm(join(dir, MANIFEST_FILE), { force: true });
  for (const file of existing) await rm(join(dir, file), { force: true });
}
