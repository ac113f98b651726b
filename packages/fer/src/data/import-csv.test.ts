import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FER2013_CLASSES } from './classes.ts';
import { DEFAULT_CLASSES, image, type FerSplit } from './format.ts';
import { importFer2013Csv } from './import-csv.ts';
import type { ImportProgress } from './importing.ts';
import { readDataset, readSplit } from './reader.ts';
import { requireSharedData } from './testing.ts';

const shared = requireSharedData();
const USAGES = ['Training', 'PublicTest', 'PrivateTest'] as const;
const SPLIT_OF = { Training: 'train', PublicTest: 'validation', PrivateTest: 'test' } as const;

interface Row {
  emotion: number;
  usage: (typeof USAGES)[number];
  face: number;
  line: number;
}

describe.skipIf(!shared)('importFer2013Csv on a CSV of real faces', () => {
  let dir: string;
  let csv: string;
  let faces: FerSplit;
  const rows: Row[] = [];
  const pixelsOf = (i: number) => [...image(faces, i)].join(' ');

  async function writeCsv(name: string, lines: string[], eol = '\n'): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, lines.join(eol) + eol);
    return path;
  }

  beforeAll(async () => {
    faces = await readSplit(shared!, 'test');
    dir = await mkdtemp(join(tmpdir(), 'fer4-csv-'));
    // Three rows per FER2013 emotion, spread over the three Usage values, each a distinct real face.
    const lines = ['emotion,pixels,Usage'];
    for (let emotion = 0; emotion < 7; emotion++) {
      for (let k = 0; k < 3; k++) {
        const row: Row = {
          emotion,
          usage: USAGES[(emotion + k) % 3],
          face: emotion * 17 + k,
          line: lines.length + 1,
        };
        rows.push(row);
        lines.push(`${emotion},${pixelsOf(row.face)},${row.usage}`);
      }
    }
    csv = await writeCsv('fer2013.csv', lines, '\r\n'); // Windows line ends, as some copies have
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Every kept row must appear in its split with its pixels, mapped label and `file:line` name. */
  async function expectRows(out: string, classes: readonly string[]) {
    const ds = await readDataset(out);
    expect(ds.classes).toEqual(classes);
    for (const row of rows) {
      const label = classes.indexOf(FER2013_CLASSES[row.emotion]);
      const split = ds.splits.find((s) => s.split === SPLIT_OF[row.usage]);
      const i = split?.names.indexOf(`fer2013.csv:${row.line}`) ?? -1;
      if (label < 0) {
        expect(i).toBe(-1);
        continue;
      }
      expect(i, `line ${row.line}`).toBeGreaterThanOrEqual(0);
      expect(split!.labels[i]).toBe(label);
      expect(Buffer.from(image(split!, i)).equals(Buffer.from(image(faces, row.face)))).toBe(true);
    }
    return ds;
  }

  it('keeps the four fer4 classes by default and counts the dropped rows', async () => {
    const out = join(dir, 'four');
    const progress: ImportProgress[] = [];
    const summary = await importFer2013Csv({ src: csv, out, onProgress: (p) => progress.push(p) });
    expect(summary.classes).toEqual(DEFAULT_CLASSES);
    expect(summary.leftOut).toEqual({ 'class angry': 3, 'class disgust': 3, 'class fear': 3 });
    expect(summary.splits.map((s) => [s.split, s.n])).toEqual([
      ['train', 4],
      ['validation', 4],
      ['test', 4],
    ]);
    expect(progress.at(-1)).toMatchObject({ phase: 'parse', unit: 'bytes' });
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    await expectRows(out, DEFAULT_CLASSES);
  });

  it('keeps all seven classes with --classes all, labels equal to the FER2013 emotion', async () => {
    const out = join(dir, 'seven');
    const summary = await importFer2013Csv({ src: csv, out, classes: 'all' });
    expect(summary.classes).toEqual(FER2013_CLASSES);
    expect(summary.leftOut).toEqual({});
    expect(summary.splits.reduce((n, s) => n + s.n, 0)).toBe(21);
    await expectRows(out, FER2013_CLASSES);
  });

  it('uses the order of an explicit class list as the label order', async () => {
    const out = join(dir, 'two');
    const summary = await importFer2013Csv({ src: csv, out, classes: ['surprise', 'Angry'] });
    expect(summary.classes).toEqual(['surprise', 'angry']);
    await expectRows(out, ['surprise', 'angry']);
    await expect(
      importFer2013Csv({ src: csv, out: join(dir, 'bad'), classes: ['happy', 'contempt'] }),
    ).rejects.toMatchObject({
      code: 'E_DATA_CLASSES',
      message: expect.stringContaining("'contempt'"),
    });
  });

  it('accepts quoted fields, another column order, and a file without Usage (all train)', async () => {
    const quoted = await writeCsv('quoted.csv', [
      '"emotion","Usage","pixels"',
      `3,"PrivateTest","${pixelsOf(5)}"`,
    ]);
    const q = await importFer2013Csv({ src: quoted, out: join(dir, 'quoted') });
    expect(q.splits).toEqual([{ split: 'test', n: 1, perClass: [1, 0, 0, 0] }]);
    const noUsage = await writeCsv('train.csv', ['emotion,pixels', `4,${pixelsOf(6)}`, '']);
    const t = await importFer2013Csv({ src: noUsage, out: join(dir, 'no-usage') });
    expect(t.splits).toEqual([{ split: 'train', n: 1, perClass: [0, 1, 0, 0] }]);
  });

  it('stops at a malformed row with its line number', async () => {
    const good = `3,${pixelsOf(0)},Training`;
    const short = pixelsOf(1).split(' ').slice(1).join(' ');
    const cases: Array<[string, string, string]> = [
      ['2303 pixels', `4,${short},Training`, 'has 2303 pixel values, expected 2304'],
      ['pixel 256', `4,256 ${short},Training`, 'pixel value above 255'],
      // A row of a left-out class (0 = angry) is checked all the same.
      ['letter', `0,12 x ${short},Training`, "has 'x' in its pixels"],
      ['emotion 7', `7,${pixelsOf(2)},Training`, "emotion '7'"],
      ['usage', `4,${pixelsOf(2)},Train`, "Usage 'Train'"],
      ['fields', `4,${pixelsOf(2)}`, 'has 2 fields, expected 3'],
    ];
    for (const [name, bad, message] of cases) {
      const src = await writeCsv(`bad-${name.replace(/ /g, '-')}.csv`, [
        'emotion,pixels,Usage',
        good,
        good,
        bad,
        good,
      ]);
      await expect(importFer2013Csv({ src, out: join(dir, `out-${name}`) }), name).rejects.toMatchObject({
        code: 'E_DATA_CSV',
        message: expect.stringMatching(new RegExp(`line 4 .*${message.replace(/[()]/g, '\\$&')}`)),
      });
    }
    const header = await writeCsv('header.csv', ['label,image', good]);
    await expect(importFer2013Csv({ src: header, out: join(dir, 'h') })).rejects.toMatchObject({
      code: 'E_DATA_CSV',
      message: expect.stringContaining('line 1'),
    });
    await expect(
      importFer2013Csv({ src: join(dir, 'missing.csv'), out: join(dir, 'm') }),
    ).rejects.toMatchObject({
      code: 'E_DATA_MISSING',
    });
  });
});
