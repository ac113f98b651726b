// Imports the FER2013 CSV (header `emotion,pixels,Usage`; emotion 0..6; pixels = 2304
// space-separated grey values; Usage = Training | PublicTest | PrivateTest) into a fer4
// folder. The file is ~300 MB, so it is streamed line by line.
//
// Malformed rows stop the import with the line number: a bad row means a damaged or
// different file, and skipping it would quietly import a different dataset.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { FER2013_CLASSES, type ClassSelection } from './classes.ts';
import { DataError } from './errors.ts';
import { DEFAULT_CLASSES, IMAGE_BYTES, sortSplitNames } from './format.ts';
import { summarise, type ImportSummary, type OnProgress } from './importing.ts';
import { SplitBuilder } from './split-builder.ts';
import { writeDataset } from './writer.ts';

export interface CsvImportOptions {
  src: string;
  out: string;
  classes?: ClassSelection;
  overwrite?: boolean;
  onProgress?: OnProgress;
}

/**
 * FER2013's Usage column to fer4 split names. PublicTest was the leaderboard set during the
 * challenge, i.e. what one tunes on, so it is validation; PrivateTest stayed hidden: test.
 */
export const USAGE_SPLITS: Readonly<Record<string, string>> = Object.freeze({
  Training: 'train',
  PublicTest: 'validation',
  PrivateTest: 'test',
});

/** Rows with no Usage column (e.g. Kaggle's train.csv) all go here. */
export const SPLIT_WITHOUT_USAGE = 'train';

interface Columns {
  emotion: number;
  pixels: number;
  usage: number | undefined;
  count: number;
  header: string;
}

export async function importFer2013Csv(options: CsvImportOptions): Promise<ImportSummary> {
  const classes = csvClasses(options.classes);
  // labelOf[emotion] is the fer4 label, or -1 when that emotion is left out.
  const labelOf = FER2013_CLASSES.map((c) => classes.indexOf(c));
  const totalBytes = await sizeOf(options.src);
  const stream = createReadStream(options.src);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const builders = new Map<string, SplitBuilder>();
  const leftOut: Record<string, number> = {};
  const pixels = new Uint8Array(IMAGE_BYTES);
  const where = (line: number) => `${options.src} line ${line}`;
  let columns: Columns | undefined;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (!columns) {
      columns = parseHeader(line, where(lineNo));
      continue;
    }
    const row = parseRow(line, columns, pixels, where(lineNo));
    const label = labelOf[row.emotion];
    if (label < 0) {
      const reason = `class ${FER2013_CLASSES[row.emotion]}`;
      leftOut[reason] = (leftOut[reason] ?? 0) + 1;
    } else {
      if (!builders.has(row.split)) builders.set(row.split, new SplitBuilder(row.split));
      builders.get(row.split)!.add(pixels, label, `${basename(options.src)}:${lineNo}`);
    }
    options.onProgress?.({ phase: 'parse', done: stream.bytesRead, total: totalBytes, unit: 'bytes' });
  }
  if (builders.size === 0) {
    throw new DataError(
      'E_DATA_CSV',
      `${options.src} has no rows of the classes ${classes.join(', ')}` + (columns ? '' : ' (it is empty)'),
    );
  }
  const manifest = await writeDataset(
    options.out,
    {
      classes,
      splits: sortSplitNames(builders.keys()).map((s) => builders.get(s)!.build()),
      source: { importer: 'fer2013-csv', path: options.src, left_out: leftOut },
    },
    { overwrite: options.overwrite },
  );
  return summarise(manifest, options.out);
}

function csvClasses(selection: ClassSelection): readonly string[] {
  if (selection === undefined) return DEFAULT_CLASSES;
  if (selection === 'all') return FER2013_CLASSES;
  const names = selection.map((c) => c.toLowerCase());
  const unknown = names.filter((c) => !FER2013_CLASSES.includes(c));
  if (unknown.length > 0) {
    throw new DataError(
      'E_DATA_CLASSES',
      `FER2013 has no class ${unknown.map((c) => `'${c}'`).join(', ')}; choose from ${FER2013_CLASSES.join(', ')} or 'all'`,
    );
  }
  return names;
}

function parseHeader(line: string, where: string): Columns {
  const names = line.split(',').map((f) => unquote(f).trim().toLowerCase());
  const emotion = names.indexOf('emotion');
  const pixels = names.indexOf('pixels');
  const usage = names.indexOf('usage');
  if (emotion < 0 || pixels < 0) {
    throw new DataError(
      'E_DATA_CSV',
      `${where}: header '${line.slice(0, 80)}' lacks an 'emotion' and a 'pixels' column; ` +
        `expected the FER2013 header 'emotion,pixels,Usage'`,
    );
  }
  return {
    emotion,
    pixels,
    usage: usage < 0 ? undefined : usage,
    count: names.length,
    header: names.join(','),
  };
}

/** Parses one data row; its pixels go into `pixels` (reused across rows to spare the GC). */
function parseRow(
  line: string,
  columns: Columns,
  pixels: Uint8Array,
  where: string,
): { emotion: number; split: string } {
  const fields = line.split(',');
  if (fields.length !== columns.count) {
    throw rowError(where, `has ${fields.length} fields, expected ${columns.count} (${columns.header})`);
  }
  const emotionText = unquote(fields[columns.emotion]).trim();
  const emotion = /^\d+$/.test(emotionText) ? Number(emotionText) : NaN;
  if (!(emotion < FER2013_CLASSES.length)) {
    throw rowError(
      where,
      `has emotion '${emotionText.slice(0, 20)}', expected 0..6 (${FER2013_CLASSES.join(', ')})`,
    );
  }
  const problem = parsePixels(unquote(fields[columns.pixels]), pixels);
  if (problem) throw rowError(where, problem);
  return {
    emotion,
    split: usageSplit(columns.usage === undefined ? undefined : unquote(fields[columns.usage]).trim(), where),
  };
}

function usageSplit(usage: string | undefined, where: string): string {
  if (usage === undefined) return SPLIT_WITHOUT_USAGE;
  const split = USAGE_SPLITS[usage];
  if (split === undefined) {
    throw rowError(
      where,
      `has Usage '${usage.slice(0, 20)}', expected one of ${Object.keys(USAGE_SPLITS).join(', ')}`,
    );
  }
  return split;
}

/** Fills `out` from space-separated integers 0..255; returns what is wrong, or undefined. */
function parsePixels(text: string, out: Uint8Array): string | undefined {
  let count = 0;
  let value = -1; // -1: not inside a number
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 32;
    if (code >= 48 && code <= 57) {
      value = value < 0 ? code - 48 : value * 10 + code - 48;
      if (value > 255) return `has a pixel value above 255 (pixel ${count + 1})`;
    } else if (code === 32 || code === 9) {
      if (value < 0) continue;
      if (count === IMAGE_BYTES) return `has more than ${IMAGE_BYTES} pixel values`;
      out[count++] = value;
      value = -1;
    } else {
      return `has '${text[i]}' in its pixels (pixel ${count + 1}); expected space-separated integers 0..255`;
    }
  }
  return count === IMAGE_BYTES ? undefined : `has ${count} pixel values, expected ${IMAGE_BYTES} (48x48)`;
}

function rowError(where: string, problem: string): DataError {
  return new DataError('E_DATA_CSV', `${where} ${problem}; fix or remove the row, or re-download the CSV`);
}

/** Some CSV writers quote fields; FER2013's fields never hold commas, so stripping quotes suffices. */
function unquote(field: string): string {
  const t = field.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

async function sizeOf(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile())
      throw new DataError('E_DATA_MISSING', `${path} is not a file; give the path of fer2013.csv`);
    return s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError('E_DATA_MISSING', `${path} does not exist; give the path of fer2013.csv`);
    }
    throw err;
  }
}
