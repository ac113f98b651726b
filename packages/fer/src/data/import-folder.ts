// Imports an image-folder tree, <src>/<split>/<class>/<image>, the layout of the public
// "Facial_emotion_images" and FER2013 image-folder sets, into a fer4 folder.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalOrder, type ClassSelection } from './classes.ts';
import { DataError } from './errors.ts';
import { DEFAULT_CLASSES, checkSplitName, sortSplitNames } from './format.ts';
import { toGray48 } from './gray48.ts';
import { summarise, type ImportSummary, type OnProgress, type SkippedFile } from './importing.ts';
import { SplitBuilder } from './split-builder.ts';
import { writeDataset } from './writer.ts';

export interface FolderImportOptions {
  src: string;
  out: string;
  classes?: ClassSelection;
  overwrite?: boolean;
  /** Images decoded at once; sharp also threads inside each decode. */
  concurrency?: number;
  onProgress?: OnProgress;
}

export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.jpg', '.jpeg', '.png', '.webp']);

/** Common spellings of split folders, so every import names its splits the way training expects. */
const SPLIT_ALIASES: Readonly<Record<string, string>> = {
  val: 'validation',
  valid: 'validation',
  training: 'train',
  testing: 'test',
};

interface Candidate {
  split: string;
  /** Lower-cased class folder name. */
  className: string;
  path: string;
  /** Path inside the split folder, stored in names.txt (e.g. happy/15705.jpg). */
  name: string;
}

export async function importFolder(options: FolderImportOptions): Promise<ImportSummary> {
  const candidates = await scanTree(options.src);
  const { classes, leftOut } = resolveClasses(options.src, candidates, options.classes);
  const kept = candidates
    .filter((c) => classes.includes(c.className))
    .map((c) => ({ ...c, label: classes.indexOf(c.className) }))
    .sort(byLabelThenNumber);
  const decoded = await decodeAll(kept, options.concurrency ?? 2, options.onProgress);
  const builders = new Map<string, SplitBuilder>();
  const skipped: SkippedFile[] = [];
  kept.forEach((c, i) => {
    const result = decoded[i];
    if (typeof result === 'string') return void skipped.push({ file: c.path, reason: result });
    if (!builders.has(c.split)) builders.set(c.split, new SplitBuilder(c.split));
    builders.get(c.split)!.add(result, c.label, c.name);
  });
  if (skipped.length > 0) leftOut['corrupt image'] = skipped.length;
  const manifest = await writeDataset(
    options.out,
    {
      classes,
      splits: sortSplitNames(builders.keys()).map((s) => builders.get(s)!.build()),
      source: { importer: 'image-folder', path: options.src, left_out: leftOut },
    },
    { overwrite: options.overwrite },
  );
  return summarise(manifest, options.out, skipped);
}

async function scanTree(src: string): Promise<Candidate[]> {
  const splitDirs = (await listDir(src)).filter((e) => e.isDirectory() && !hidden(e.name));
  const splitOf = new Map<string, string>();
  const candidates: Candidate[] = [];
  for (const dir of splitDirs) {
    const split = splitName(src, dir.name, splitOf);
    const classDirs = (await listDir(join(src, dir.name))).filter((e) => e.isDirectory() && !hidden(e.name));
    for (const classDir of classDirs) {
      const files = (await listDir(join(src, dir.name, classDir.name))).filter(
        (e) => e.isFile() && isImageName(e.name),
      );
      for (const file of files) {
        candidates.push({
          split,
          className: classDir.name.toLowerCase(),
          path: join(src, dir.name, classDir.name, file.name),
          name: `${classDir.name}/${file.name}`,
        });
      }
    }
  }
  if (candidates.length === 0) {
    throw new DataError(
      'E_DATA_FOLDER',
      `no images found under ${src}; expected <src>/<split>/<class>/<image> with ${IMAGE_EXTENSIONS.join(', ')} files ` +
        `(e.g. ${join(src, 'train', 'happy', '15705.jpg')})`,
    );
  }
  return candidates;
}

function splitName(src: string, folder: string, seen: Map<string, string>): string {
  const lower = folder.toLowerCase();
  const split = SPLIT_ALIASES[lower] ?? lower;
  try {
    checkSplitName(split);
  } catch {
    throw new DataError(
      'E_DATA_FOLDER',
      `split folder '${folder}' in ${src} cannot name a split; rename it (e.g. train, validation, test)`,
    );
  }
  const other = seen.get(split);
  if (other !== undefined) {
    throw new DataError(
      'E_DATA_FOLDER',
      `folders '${other}' and '${folder}' in ${src} both mean split '${split}'; merge or remove one`,
    );
  }
  seen.set(split, folder);
  return split;
}

function resolveClasses(
  src: string,
  candidates: Candidate[],
  selection: ClassSelection,
): { classes: readonly string[]; leftOut: Record<string, number> } {
  const found = canonicalOrder(candidates.map((c) => c.className));
  if (selection === 'all') return { classes: found, leftOut: {} };
  // Folder names are matched case-insensitively, so the class list is too.
  const classes = (selection ?? DEFAULT_CLASSES).map((c) => c.toLowerCase());
  const unknown = found.filter((c) => !classes.includes(c));
  if (selection === undefined && unknown.length > 0) {
    throw new DataError(
      'E_DATA_FOLDER',
      `${src} has class folders that are not fer4 classes (${DEFAULT_CLASSES.join(', ')}): ${unknown.join(', ')} ` +
        `(found: ${found.join(', ')}); pass --classes all to import every folder as a class, ` +
        `or --classes ${DEFAULT_CLASSES.join(',')} to import only those`,
    );
  }
  const leftOut: Record<string, number> = {};
  for (const c of candidates) {
    const reason = `class ${c.className}`;
    if (!classes.includes(c.className)) leftOut[reason] = (leftOut[reason] ?? 0) + 1;
  }
  return { classes, leftOut };
}

/** Decodes every candidate, `concurrency` at a time; a string result is why a file failed. */
async function decodeAll(
  files: readonly Candidate[],
  concurrency: number,
  onProgress: OnProgress | undefined,
): Promise<Array<Uint8Array | string>> {
  const results = new Array<Uint8Array | string>(files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = /[\r\n]/.test(files[i].name)
        ? 'the file name holds a line break, which names.txt cannot store'
        : await readFile(files[i].path)
            .then(toGray48)
            .catch((err: Error) => err.message);
      onProgress?.({ phase: 'decode', done: ++done, total: files.length, unit: 'images' });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return results;
}

/** fer4 order: by label, then by the number in the file name (15705.jpg), then by name. */
function byLabelThenNumber(a: Candidate & { label: number }, b: Candidate & { label: number }): number {
  return (
    a.label - b.label ||
    a.split.localeCompare(b.split) ||
    fileNumber(a.name) - fileNumber(b.name) ||
    a.name.localeCompare(b.name)
  );
}

function fileNumber(name: string): number {
  const digits = /(\d+)[^/]*$/.exec(name);
  return digits ? Number(digits[1]) : Number.MAX_SAFE_INTEGER;
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return !hidden(name) && IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Dot files and the __MACOSX folder macOS zips add are never data. */
function hidden(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX';
}

async function listDir(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DataError(
        'E_DATA_MISSING',
        `${dir} is not a folder; give the root of a <split>/<class>/<image> tree`,
      );
    }
    throw err;
  }
}
