import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { readDataset, verifyChecksums } from './reader.ts';
import { randomSplitData, seededRandom } from './testing.ts';
import { writeDataset, type SplitData } from './writer.ts';

describe('writeDataset', () => {
  let dir: string;
  const classes = ['angry', 'happy', 'neutral'];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fer4-writer-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips pixels, labels, names and classes through the reader', async () => {
    const random = seededRandom(42);
    const splits = [randomSplitData('test', 9, 3, random), randomSplitData('train', 31, 3, random)];
    splits[1].names[4] = 'happy/ünïcode name 15705.jpg';
    await writeDataset(dir, { classes, splits });
    const ds = await readDataset(dir);
    expect(ds.classes).toEqual(classes);
    expect(ds.splits.map((s) => s.split)).toEqual(['train', 'test']);
    for (const written of splits) {
      const read = ds.splits.find((s) => s.split === written.split)!;
      expect(read.n).toBe(written.labels.length);
      expect(Buffer.from(read.pixels).equals(Buffer.from(written.pixels))).toBe(true);
      expect([...read.labels]).toEqual([...written.labels]);
      expect(read.names).toEqual(written.names);
    }
  });

  it('records counts per class and the sha256 and size of every file', async () => {
    const split = randomSplitData('train', 12, 3, seededRandom(1));
    const manifest = await writeDataset(dir, {
      classes,
      splits: [split],
      source: { importer: 'fer2013-csv', path: 'x.csv', left_out: { 'class fear': 3 } },
    });
    const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(manifest)));
    const expected = classes.map((_, c) => split.labels.filter((l) => l === c).length);
    expect(manifest.splits.train).toEqual({
      total: 12,
      per_class: Object.fromEntries(classes.map((c, i) => [c, expected[i]])),
    });
    expect(Object.keys(manifest.files).sort()).toEqual(['train.labels.u8', 'train.names.txt', 'train.u8']);
    for (const [file, entry] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(dir, file));
      expect(entry).toEqual({
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
    expect((await verifyChecksums(dir)).every((c) => c.ok)).toBe(true);
    expect(onDisk.source.left_out).toEqual({ 'class fear': 3 });
  });

  it('refuses a folder holding fer4 data unless asked to overwrite, and then drops stale splits', async () => {
    const random = seededRandom(3);
    await writeDataset(dir, { classes, splits: [randomSplitData('validation', 4, 3, random)] });
    const again = writeDataset(dir, { classes, splits: [randomSplitData('train', 4, 3, random)] });
    await expect(again).rejects.toMatchObject({ code: 'E_DATA_OUT_EXISTS' });
    await writeDataset(
      dir,
      { classes, splits: [randomSplitData('train', 4, 3, random)] },
      { overwrite: true },
    );
    expect(existsSync(join(dir, 'validation.u8'))).toBe(false);
    expect((await readDataset(dir)).splits.map((s) => s.split)).toEqual(['train']);
  });

  it('refuses data the reader would reject', async () => {
    const good = () => randomSplitData('train', 5, 3, seededRandom(9));
    const cases: Array<[string, (s: SplitData) => SplitData, string]> = [
      ['E_DATA_LABEL_RANGE', (s) => ({ ...s, labels: s.labels.map((l, i) => (i === 2 ? 3 : l)) }), 'index 2'],
      ['E_DATA_NAME', (s) => ({ ...s, names: s.names.map((n, i) => (i === 1 ? 'a\nb' : n)) }), 'line break'],
      ['E_DATA_NAME', (s) => ({ ...s, split: '../evil' }), '../evil'],
      ['E_DATA_LABEL_COUNT', (s) => ({ ...s, labels: s.labels.subarray(1) }), '4 labels for 5 images'],
      ['E_DATA_PIXEL_SIZE', (s) => ({ ...s, pixels: s.pixels.subarray(1) }), 'not a whole number'],
    ];
    for (const [code, spoil, mentions] of cases) {
      const err = await writeDataset(dir, { classes, splits: [spoil(good())] }).catch((e: DataError) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err).toMatchObject({ code });
      expect((err as DataError).message).toContain(mentions);
    }
    await expect(writeDataset(dir, { classes: ['a', 'A'], splits: [good()] })).rejects.toMatchObject({
      code: 'E_DATA_CLASSES',
    });
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });
});
