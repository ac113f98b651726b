import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError, type DataErrorCode } from './errors.ts';
import { DEFAULT_CLASSES, IMAGE_BYTES, classCounts, image } from './format.ts';
import { assertChecksums, listSplits, readClasses, readDataset, readSplit } from './reader.ts';
import { randomSplitData, requireSharedData, seededRandom } from './testing.ts';
import { writeDataset } from './writer.ts';

const shared = requireSharedData();

describe.skipIf(!shared)('reader on the shared fer4 data', () => {
  const dir = shared!;

  it('lists the three splits and reads the classes from manifest.json', async () => {
    expect(await listSplits(dir)).toEqual(['train', 'validation', 'test']);
    expect(await readClasses(dir)).toEqual(['happy', 'sad', 'surprise', 'neutral']);
  });

  it('reads the counts per split and class the README states', async () => {
    const ds = await readDataset(dir);
    const counts = Object.fromEntries(ds.splits.map((s) => [s.split, classCounts(s)]));
    expect(counts).toEqual({
      train: [3976, 3982, 3173, 3978],
      validation: [1825, 1139, 797, 1216],
      test: [32, 32, 32, 32],
    });
    for (const s of ds.splits) {
      expect(s.pixels.length).toBe(s.n * IMAGE_BYTES);
      expect(s.names).toHaveLength(s.n);
      // Grouped by label 0..3, and each name's folder is its class.
      expect([...s.labels]).toEqual([...s.labels].sort((a, b) => a - b));
      s.names.forEach((name, i) => expect(name.split('/')[0]).toBe(s.classes[s.labels[i]]));
    }
  });

  it('image(i) is bytes [i*2304, (i+1)*2304) of <split>.u8, row-major', async () => {
    const test = await readSplit(dir, 'test');
    const raw = readFileSync(join(dir, 'test.u8'));
    expect(test.names[0]).toBe('happy/15705.jpg');
    for (const i of [0, 57, 127]) {
      const px = image(test, i);
      expect(Buffer.from(px).equals(raw.subarray(i * 2304, (i + 1) * 2304))).toBe(true);
      expect(px[17 * 48 + 30]).toBe(raw[i * 2304 + 17 * 48 + 30]);
    }
    expect(() => image(test, 128)).toThrow(RangeError);
  });

  it('finds every file matching the sha256 in manifest.json', async () => {
    await expect(assertChecksums(dir)).resolves.toBeUndefined();
  });
});

describe('reader rejects malformed data', () => {
  let dir: string;
  const classes = ['happy', 'sad', 'surprise', 'neutral'];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fer4-reader-'));
    const random = seededRandom(7);
    await writeDataset(dir, {
      classes,
      splits: [randomSplitData('train', 20, 4, random), randomSplitData('test', 6, 4, random)],
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function expectCode(
    promise: Promise<unknown>,
    code: DataErrorCode,
    mentions: string,
  ): Promise<DataError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe(code);
    expect((err as DataError).message).toContain(mentions);
    return err as DataError;
  }

  const dropManifest = () => rm(join(dir, 'manifest.json'));

  it('reads back what the writer wrote', async () => {
    const train = await readSplit(dir, 'train');
    expect(train.n).toBe(20);
    expect(await listSplits(dir)).toEqual(['train', 'test']);
  });

  it('a pixel file that is not a multiple of 2304 bytes: E_DATA_PIXEL_SIZE', async () => {
    await appendFile(join(dir, 'train.u8'), new Uint8Array([1, 2, 3]));
    const err = await expectCode(readSplit(dir, 'train'), 'E_DATA_PIXEL_SIZE', 'train.u8');
    expect(err.message).toContain(`${20 * 2304 + 3} bytes`);
  });

  it('a pixel file cut mid-image: E_DATA_PIXEL_SIZE', async () => {
    await truncate(join(dir, 'train.u8'), 20 * 2304 - 1000);
    await expectCode(readSplit(dir, 'train'), 'E_DATA_PIXEL_SIZE', 'not a multiple of 2304');
  });

  it('files shorter than manifest.json records: E_DATA_TRUNCATED', async () => {
    await truncate(join(dir, 'train.u8'), 19 * 2304);
    await expectCode(readSplit(dir, 'train'), 'E_DATA_TRUNCATED', 'train.u8');
  });

  it('a truncated labels file with a manifest: E_DATA_TRUNCATED naming the labels file', async () => {
    await truncate(join(dir, 'train.labels.u8'), 12);
    await expectCode(readSplit(dir, 'train'), 'E_DATA_TRUNCATED', 'train.labels.u8');
  });

  it('all three files cut consistently but the manifest counts more: E_DATA_TRUNCATED', async () => {
    // Remove the byte sizes so only the per-split total can reveal the truncation.
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    delete manifest.files;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const names = (await readFile(join(dir, 'train.names.txt'), 'utf8')).split('\n').slice(0, 18);
    await truncate(join(dir, 'train.u8'), 18 * 2304);
    await truncate(join(dir, 'train.labels.u8'), 18);
    await writeFile(join(dir, 'train.names.txt'), names.join('\n') + '\n');
    await expectCode(readSplit(dir, 'train'), 'E_DATA_TRUNCATED', 'records 20');
  });

  it('label count different from image count: E_DATA_LABEL_COUNT', async () => {
    await dropManifest();
    await truncate(join(dir, 'train.labels.u8'), 19);
    const err = await expectCode(readSplit(dir, 'train'), 'E_DATA_LABEL_COUNT', 'train.labels.u8 in');
    expect(err.message).toContain('19 labels');
    expect(err.message).toContain('20 images');
  });

  it('a label outside the classes: E_DATA_LABEL_RANGE with the index', async () => {
    const labels = await readFile(join(dir, 'train.labels.u8'));
    labels[13] = 4;
    labels[15] = 200;
    await writeFile(join(dir, 'train.labels.u8'), labels);
    await dropManifest(); // byte sizes are unchanged, but keep the checks independent of it
    const err = await expectCode(
      readSplit(dir, 'train'),
      'E_DATA_LABEL_RANGE',
      'label 4 at index 13 (and 1 more)',
    );
    expect(err.message).toContain('happy, sad, surprise, neutral');
  });

  it('a names file with the wrong number of lines: E_DATA_NAME_COUNT', async () => {
    await writeFile(join(dir, 'test.names.txt'), 'a.jpg\nb.jpg\n');
    await expectCode(readSplit(dir, 'test'), 'E_DATA_NAME_COUNT', 'test.names.txt');
  });

  it('a missing file of a split: E_DATA_MISSING naming it, and the split is still listed', async () => {
    await rm(join(dir, 'test.labels.u8'));
    expect(await listSplits(dir)).toContain('test');
    await expectCode(readSplit(dir, 'test'), 'E_DATA_MISSING', 'test.labels.u8 not found');
    await expectCode(readDataset(dir), 'E_DATA_MISSING', 'test.labels.u8');
  });

  it('a missing folder, or one without data: E_DATA_MISSING', async () => {
    await expectCode(readSplit(join(dir, 'nope'), 'train'), 'E_DATA_MISSING', 'does not exist');
    const empty = await mkdtemp(join(tmpdir(), 'fer4-empty-'));
    await expectCode(listSplits(empty), 'E_DATA_MISSING', 'no <split>.u8');
    await rm(empty, { recursive: true });
  });

  it('an empty split: E_DATA_EMPTY', async () => {
    await dropManifest();
    for (const f of ['test.u8', 'test.labels.u8', 'test.names.txt']) await writeFile(join(dir, f), '');
    await expectCode(readSplit(dir, 'test'), 'E_DATA_EMPTY', 'test.u8');
  });

  it('a manifest that is not JSON or has bad classes: E_DATA_MANIFEST', async () => {
    await writeFile(join(dir, 'manifest.json'), '{"classes": [');
    await expectCode(readSplit(dir, 'train'), 'E_DATA_MANIFEST', 'not valid JSON');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ classes: ['happy', 'Happy'] }));
    await expectCode(readClasses(dir), 'E_DATA_MANIFEST', 'repeated');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ classes: 'happy,sad' }));
    await expectCode(readSplit(dir, 'train'), 'E_DATA_MANIFEST', '"classes"');
  });

  it('a split name with path characters: E_DATA_NAME', async () => {
    await expectCode(readSplit(dir, '../train'), 'E_DATA_NAME', '../train');
  });

  it('uses the default fer4 classes without a manifest and the manifest classes with one', async () => {
    await dropManifest();
    expect((await readSplit(dir, 'train')).classes).toEqual(DEFAULT_CLASSES);
    const seven = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
    const labels = await readFile(join(dir, 'train.labels.u8'));
    labels[0] = 6;
    await writeFile(join(dir, 'train.labels.u8'), labels);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ classes: seven }));
    const train = await readSplit(dir, 'train');
    expect(train.classes).toEqual(seven);
    expect(train.labels[0]).toBe(6);
  });

  it('changed file content: assertChecksums E_DATA_CHECKSUM naming the file', async () => {
    const px = await readFile(join(dir, 'test.u8'));
    px[100] ^= 0xff;
    await writeFile(join(dir, 'test.u8'), px);
    await expectCode(assertChecksums(dir), 'E_DATA_CHECKSUM', 'test.u8 (content differs)');
  });
});
