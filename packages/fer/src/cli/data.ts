// `fer data`: inspect a fer4 folder and import image folders or the FER2013 CSV into one.
// The work lives in ../data; this file parses flags, shows progress and prints tables.
import {
  DataError,
  computeStats,
  importFer2013Csv,
  importFolder,
  parseClassSelection,
  readDataset,
  verifyChecksums,
  type CsvImportOptions,
  type DataStats,
  type FileCheck,
  type FolderImportOptions,
  type ImportProgress,
  type ImportSummary,
  type ImageRef,
} from '../data/index.ts';
import { ProgressLine } from '../train/progress.ts';
import { parseCommandArgs } from './args.ts';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

const USAGE = `usage: fer data <subcommand> [options]

subcommands:
  stats          counts, class balance, duplicates, blank images and split leakage of a fer4 folder
  import-folder  import a <split>/<class>/<image> tree into a fer4 folder
  import-csv     import the FER2013 CSV (emotion,pixels,Usage) into a fer4 folder

Run 'fer data <subcommand> --help' for its options.`;

const STATS_USAGE = `usage: fer data stats --data <dir> [--json]

Prints images per split and class, class imbalance (largest/smallest class), exact-duplicate
groups within and across splits, blank images, duplicates with conflicting labels, how many
images of each split also occur in earlier splits, and whether files match manifest.json.
Exits 1 when a file's sha256 differs from manifest.json.

options:
  --data <dir>   fer4 folder (<split>.u8, <split>.labels.u8, <split>.names.txt, manifest.json)
  --json         print the numbers as JSON (includes the indices of leaked images)
  -h, --help     show this help`;

const FOLDER_USAGE = `usage: fer data import-folder --src <root> --out <dir> [--classes all|<c1,c2,...>] [--force]

Reads <root>/<split>/<class>/*.{jpg,jpeg,png,webp} (any size or colour), converts each image
to 48x48 grey (BT.601 luma, centre square crop, area downscaling) and writes a fer4 folder.
Class folders match class names case-insensitively; val/valid → validation, training → train.
Images that cannot be decoded are skipped and listed.

options:
  --src <root>       image-folder tree to import
  --out <dir>        fer4 folder to write (created; must hold no fer4 data unless --force)
  --classes <list>   default: happy,sad,surprise,neutral, and any other class folder is an error;
                     'all': every class folder becomes a class (FER2013 order, then alphabetical);
                     'a,b,...': only these, labelled in this order; other folders are left out
  --force            replace fer4 data already in --out
  -h, --help         show this help`;

const CSV_USAGE = `usage: fer data import-csv --src <fer2013.csv> --out <dir> [--classes all|<c1,c2,...>] [--force]

Streams the FER2013 CSV (header emotion,pixels,Usage; emotion 0..6 = angry, disgust, fear,
happy, sad, surprise, neutral) into a fer4 folder. Usage maps to splits:
Training → train, PublicTest → validation, PrivateTest → test (no Usage column → train).
A malformed row stops the import with its line number. names.txt records <csv file>:<line>.

options:
  --src <file>       the FER2013 CSV
  --out <dir>        fer4 folder to write (created; must hold no fer4 data unless --force)
  --classes <list>   default: happy,sad,surprise,neutral (rows of other emotions are left out and counted);
                     'all': all 7 FER2013 classes, labels = FER2013 emotion numbers;
                     'a,b,...': only these, labelled in this order
  --force            replace fer4 data already in --out
  -h, --help         show this help`;

type Subcommand = (argv: string[]) => Promise<number>;

const subcommands: Record<string, Subcommand> = {
  stats: runStats,
  'import-folder': (argv) => runImport(argv, 'import-folder', FOLDER_USAGE, 'decoding images', importFolder),
  'import-csv': (argv) => runImport(argv, 'import-csv', CSV_USAGE, 'reading CSV', importFer2013Csv),
};

export const dataCommand: Command = {
  async run(argv) {
    const [name, ...rest] = argv;
    if (name === '--help' || name === '-h' || name === 'help') {
      console.log(USAGE);
      return 0;
    }
    const sub = name === undefined ? undefined : subcommands[name];
    if (!sub) {
      const what = name === undefined ? 'a subcommand is required' : `unknown subcommand '${name}'`;
      throw new CliError(`${what} (stats, import-folder, import-csv); run 'fer data --help'`);
    }
    try {
      return await sub(rest);
    } catch (err) {
      if (err instanceof DataError) throw new CliError(err.message, err.code, 1);
      throw err;
    }
  },
};

async function runStats(argv: string[]): Promise<number> {
  const values = parseCommandArgs(
    argv,
    { data: { type: 'string' }, json: { type: 'boolean', default: false } },
    STATS_USAGE,
  );
  if (!values) return 0;
  const dir = required(values.data, '--data', 'stats');
  const stats = computeStats(await readDataset(dir));
  const checksums = await verifyChecksums(dir);
  console.log(values.json ? JSON.stringify({ ...stats, checksums }, null, 2) : formatStats(stats, checksums));
  return checksums.every((c) => c.ok) ? 0 : 1;
}

/** import-folder and import-csv: the same flags, a different importer. */
async function runImport(
  argv: string[],
  subcommand: string,
  usage: string,
  progressLabel: string,
  importer: (options: CsvImportOptions & FolderImportOptions) => Promise<ImportSummary>,
): Promise<number> {
  const values = parseCommandArgs(
    argv,
    {
      src: { type: 'string' },
      out: { type: 'string' },
      classes: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    usage,
  );
  if (!values) return 0;
  const src = required(values.src, '--src', subcommand);
  const out = required(values.out, '--out', subcommand);
  const progress = new ProgressLine();
  const summary = await importer({
    src,
    out,
    classes: parseClassSelection(values.classes),
    overwrite: values.force,
    onProgress: (p) => progress.update(p.done, p.total, progressText(progressLabel, p)),
  }).finally(() => progress.clear());
  console.log(formatImport(summary));
  return 0;
}

function required(value: string | undefined, flag: string, subcommand: string): string {
  if (value === undefined || value === '') {
    throw new CliError(`${flag} is required; run 'fer data ${subcommand} --help'`);
  }
  return value;
}

// ---- output ---------------------------------------------------------------------------

function formatStats(stats: DataStats, checksums: FileCheck[]): string {
  const ref = (r: ImageRef) => `${r.split} ${r.index}`;
  const blankSet = new Set(stats.blank.map(ref));
  const lines = [
    `data: ${stats.dir}`,
    `classes: ${stats.classes.map((c, i) => `${i}=${c}`).join(', ')}`,
    '',
    countTable(stats.classes, stats.splits, true),
    '',
    `duplicate groups: ${stats.duplicates.groups} (${stats.duplicates.withinOneSplit} within one split, ` +
      `${stats.duplicates.spanningSplits} across splits)`,
    `redundant copies inside a split: ${stats.splits.map((s) => `${s.split} ${s.redundantCopies}`).join(', ')}`,
    `conflicting labels: ${stats.duplicates.conflictingLabels.length} groups`,
    ...stats.duplicates.conflictingLabels.map(
      (g) =>
        `  ${g.members.map((m) => `${ref(m)} ${stats.classes[m.label]}`).join(' = ')}` +
        (g.members.some((m) => blankSet.has(ref(m))) ? '  (blank)' : ''),
    ),
    `blank images: ${stats.blank.length}${stats.blank.length ? ` (${stats.blank.map(ref).join(', ')})` : ''}`,
    'cross-split leakage:',
    ...(stats.leakage.length === 0 ? ['  (only one split)'] : []),
    ...stats.leakage.map((l) => `  ${l.split}: ${l.count} of ${l.n} images also in ${l.alsoIn.join(' or ')}`),
    formatChecksums(checksums),
  ];
  return lines.join('\n');
}

function formatChecksums(checksums: FileCheck[]): string {
  if (checksums.length === 0) return 'checksums: none recorded (no manifest.json files entry)';
  const bad = checksums.filter((c) => !c.ok);
  if (bad.length === 0) return `checksums: all ${checksums.length} files match manifest.json`;
  const list = bad.map((c) => `${c.file} (${c.actual ? 'content differs' : 'missing'})`).join(', ');
  return `checksums: ${bad.length} of ${checksums.length} files DIFFER from manifest.json: ${list}; copy or import them again`;
}

interface CountRow {
  split: string;
  n: number;
  perClass: number[];
  imbalance?: number | null;
}

function countTable(classes: readonly string[], rows: CountRow[], withImbalance: boolean): string {
  const all = classes.map((_, c) => rows.reduce((sum, r) => sum + r.perClass[c], 0));
  const allRow: CountRow = {
    split: 'all',
    n: all.reduce((a, b) => a + b, 0),
    perClass: all,
    imbalance: ratio(all),
  };
  const body = rows.length > 1 ? [...rows, allRow] : rows;
  const header = ['split', ...classes, 'total', ...(withImbalance ? ['max/min'] : [])];
  const cells = body.map((r) => [
    r.split,
    ...r.perClass.map(String),
    String(r.n),
    ...(withImbalance ? [r.imbalance == null ? 'n/a' : r.imbalance.toFixed(2)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [header, ...cells].map(line).join('\n');
}

function ratio(counts: number[]): number | null {
  const min = Math.min(...counts);
  return min === 0 ? null : Math.max(...counts) / min;
}

function formatImport(summary: ImportSummary): string {
  const total = summary.splits.reduce((sum, s) => sum + s.n, 0);
  const leftOut = Object.entries(summary.leftOut);
  const shown = summary.skipped.slice(0, 20);
  return [
    `imported ${total} images into ${summary.out}`,
    `classes: ${summary.classes.map((c, i) => `${i}=${c}`).join(', ')}`,
    '',
    countTable(summary.classes, summary.splits, false),
    '',
    `left out: ${leftOut.length ? leftOut.map(([why, n]) => `${n} (${why})`).join(', ') : 'none'}`,
    ...(summary.skipped.length
      ? [
          `skipped ${summary.skipped.length} file(s) that could not be decoded:`,
          ...shown.map((s) => `  ${s.file}: ${s.reason}`),
          ...(summary.skipped.length > shown.length
            ? [`  ... and ${summary.skipped.length - shown.length} more`]
            : []),
        ]
      : []),
    `next: fer data stats --data ${summary.out}`,
  ].join('\n');
}

/** `decoding images: 42% (1234/2938 images)`, or MB for a streamed file. */
function progressText(label: string, p: ImportProgress): string {
  const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
  const count =
    p.unit === 'bytes'
      ? `${(p.done / 1e6).toFixed(1)}/${(p.total / 1e6).toFixed(1)} MB`
      : `${p.done}/${p.total} images`;
  return `${label}: ${pct}% (${count})`;
}
