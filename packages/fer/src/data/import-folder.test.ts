import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLASSES, image, type FerSplit } from './format.ts';
import { importFolder } from './import-folder.ts';
import type { ImportProgress } from './importing.ts';
import { readDataset, readSplit } from './reader.ts';
import { requireSharedData, seededRandom } from './testing.ts';

const shared = requireSharedData();

/** Pearson correlation of two images: 1 means the same picture up to brightness and contrast. */
function correlation(a: Uint8Array, b: Uint8Array): number {
  const mean = (x: Uint8Array) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(a),
    mb = mean(b);
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

const gray = (px: Uint8Array, side = 48) =>
  sharp(Buffer.from(px), { raw: { width: side, height: side, channels: 1 } });

describe.skipIf(!shared)('importFolder on a tree of real faces', () => {
  let root: string;
  let src: string;
  let faces: FerSplit;
  const face = (i: number) => image(faces, i);
  /** [file written, face it came from, how exactly it must come back] */
  const expectations: Array<{
    split: string;
    name: string;
    face: number;
    exact: boolean;
    tinted?: Uint8Array;
  }> = [];

  async function put(split: string, folder: string, file: string, bytes: Buffer | Uint8Array) {
    await mkdir(join(src, split, folder), { recursive: true });
    await writeFile(join(src, split, folder, file), bytes);
  }

  beforeAll(async () => {
    faces = await readSplit(shared!, 'test'); // labels: 0..31 happy, 32..63 sad, 64..95 surprise, 96..127 neutral
    root = await mkdtemp(join(tmpdir(), 'fer4-folder-'));
    src = join(root, 'Facial_emotion_images');
    // Lossless grey 48x48, as in the public set: must come back byte for byte.
    for (const i of [2, 0, 1]) {
      await put('train', 'happy', `${100 + i}.png`, await gray(face(i)).png().toBuffer());
      expectations.push({ split: 'train', name: `happy/${100 + i}.png`, face: i, exact: true });
    }
    // RGB JPEG at 96x96: lossy, so close but not equal.
    for (const i of [32, 33]) {
      await put(
        'train',
        'Sad',
        `${i}.jpg`,
        await gray(face(i)).resize(96, 96).toColourspace('srgb').jpeg({ quality: 92 }).toBuffer(),
      );
      expectations.push({ split: 'train', name: `Sad/${i}.jpg`, face: i, exact: false });
    }
    // 3x pixel-replicated RGB PNG: area averaging of 3x3 equal blocks restores the original exactly.
    for (const i of [64, 65]) {
      await put(
        'train',
        'SURPRISE',
        `${i}.png`,
        await gray(face(i)).resize(144, 144, { kernel: 'nearest' }).toColourspace('srgb').png().toBuffer(),
      );
      expectations.push({ split: 'train', name: `SURPRISE/${i}.png`, face: i, exact: true });
    }
    // Non-square lossy WebP: 200x200 face with 25 white rows above and below, centre-cropped back.
    for (const i of [96, 97]) {
      const webp = await gray(face(i))
        .resize(200, 200)
        .extend({ top: 25, bottom: 25, background: '#ffffff' })
        .toColourspace('srgb')
        .webp({ quality: 95 })
        .toBuffer();
      await put('val', 'neutral', `${i}.webp`, webp);
      expectations.push({ split: 'validation', name: `neutral/${i}.webp`, face: i, exact: false });
    }
    // A tinted colour PNG: the grey must be BT.601 luma of the colour pixels.
    const f = face(3);
    const rgb = new Uint8Array(2304 * 3);
    for (let p = 0; p < 2304; p++) rgb.set([f[p], Math.round(f[p] * 0.8), Math.round(f[p] * 0.5)], p * 3);
    await put(
      'val',
      'happy',
      '7.png',
      await sharp(rgb, { raw: { width: 48, height: 48, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const tinted = new Uint8Array(2304).map((_, p) =>
      Math.round(0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2]),
    );
    expectations.push({ split: 'validation', name: 'happy/7.png', face: 3, exact: true, tinted });
    // Test split: one good grey JPEG, one file of random bytes, one truncated PNG.
    await put(
      'test',
      'sad',
      '40.jpeg',
      await gray(face(40)).toColourspace('b-w').jpeg({ quality: 95 }).toBuffer(),
    );
    expectations.push({ split: 'test', name: 'sad/40.jpeg', face: 40, exact: false });
    const random = seededRandom(3);
    await put(
      'test',
      'sad',
      'corrupt.jpg',
      new Uint8Array(3000).map(() => Math.floor(random() * 256)),
    );
    const png = await gray(face(41)).png().toBuffer();
    await put('test', 'sad', 'truncated.png', png.subarray(0, png.length >> 1));
    // Not data: ignored.
    await put('train', 'happy', 'notes.txt', Buffer.from('not an image'));
    await put('train', 'happy', '.DS_Store', Buffer.from('x'));
    await put('__MACOSX', 'happy', '._1.png', Buffer.from('x'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('imports every decodable image as 48x48 grey under the right split, class and name', async () => {
    const out = join(root, 'out');
    const progress: ImportProgress[] = [];
    const summary = await importFolder({ src, out, onProgress: (p) => progress.push(p) });
    expect(summary.classes).toEqual(DEFAULT_CLASSES);
    expect(summary.splits).toEqual([
      { split: 'train', n: 7, perClass: [3, 2, 2, 0] },
      { split: 'validation', n: 3, perClass: [1, 0, 0, 2] },
      { split: 'test', n: 1, perClass: [0, 1, 0, 0] },
    ]);
    expect(progress.at(-1)).toEqual({ phase: 'decode', done: 13, total: 13, unit: 'images' });

    const ds = await readDataset(out);
    for (const e of expectations) {
      const split = ds.splits.find((s) => s.split === e.split)!;
      const i = split.names.indexOf(e.name);
      expect(i, e.name).toBeGreaterThanOrEqual(0);
      expect(split.classes[split.labels[i]]).toBe(e.name.split('/')[0].toLowerCase());
      const got = image(split, i);
      const want = e.tinted ?? face(e.face);
      if (e.exact) expect(Buffer.from(got).equals(Buffer.from(want)), e.name).toBe(true);
      else expect(correlation(got, want), e.name).toBeGreaterThan(0.97);
    }
    // fer4 order: by label, then by the number in the file name.
    expect(ds.splits[0].names).toEqual([
      'happy/100.png',
      'happy/101.png',
      'happy/102.png',
      'Sad/32.jpg',
      'Sad/33.jpg',
      'SURPRISE/64.png',
      'SURPRISE/65.png',
    ]);
  });

  it('skips undecodable files, names them, and counts them in the manifest', async () => {
    const out = join(root, 'out-skips');
    const summary = await importFolder({ src, out });
    expect(summary.skipped.map((s) => basename(s.file)).sort()).toEqual(['corrupt.jpg', 'truncated.png']);
    for (const s of summary.skipped) expect(s.reason.length).toBeGreaterThan(0);
    expect(summary.leftOut).toEqual({ 'corrupt image': 2 });
    expect(summary.manifest.source).toEqual({
      importer: 'image-folder',
      path: src,
      left_out: { 'corrupt image': 2 },
    });
  });

  it('refuses class folders outside the fer4 classes unless --classes says what to do', async () => {
    await mkdir(join(src, 'train', 'angry'), { recursive: true });
    await writeFile(join(src, 'train', 'angry', '5.png'), await gray(face(5)).png().toBuffer());
    try {
      await expect(importFolder({ src, out: join(root, 'out-unknown') })).rejects.toMatchObject({
        code: 'E_DATA_FOLDER',
        message: expect.stringContaining('angry (found: angry, happy, sad, surprise, neutral)'),
      });
      const all = await importFolder({ src, out: join(root, 'out-all'), classes: 'all' });
      expect(all.classes).toEqual(['angry', 'happy', 'sad', 'surprise', 'neutral']);
      expect(all.splits[0].perClass).toEqual([1, 3, 2, 2, 0]);
      const some = await importFolder({ src, out: join(root, 'out-some'), classes: ['Sad', 'happy'] });
      expect(some.classes).toEqual(['sad', 'happy']);
      expect(some.leftOut).toMatchObject({ 'class angry': 1, 'class surprise': 2, 'class neutral': 2 });
      expect((await readSplit(join(root, 'out-some'), 'train')).names).toEqual([
        'Sad/32.jpg',
        'Sad/33.jpg',
        'happy/100.png',
        'happy/101.png',
        'happy/102.png',
      ]);
    } finally {
      await rm(join(src, 'train', 'angry'), { recursive: true });
    }
  });

  it('reports a missing source, a tree without images, and an occupied output folder', async () => {
    await expect(importFolder({ src: join(root, 'nope'), out: join(root, 'x') })).rejects.toMatchObject({
      code: 'E_DATA_MISSING',
    });
    const bare = join(root, 'bare');
    await mkdir(join(bare, 'train', 'happy'), { recursive: true });
    await expect(importFolder({ src: bare, out: join(root, 'x') })).rejects.toMatchObject({
      code: 'E_DATA_FOLDER',
    });
    const out = join(root, 'out-twice');
    await importFolder({ src, out });
    await expect(importFolder({ src, out })).rejects.toMatchObject({ code: 'E_DATA_OUT_EXISTS' });
    await expect(importFolder({ src, out, overwrite: true })).resolves.toMatchObject({ out });
  });
});
