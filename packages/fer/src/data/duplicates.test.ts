import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blankIndices,
  cleanIndices,
  cleanTrainIndices,
  findDuplicateGroups,
  hasConflictingLabels,
  hashImages,
  indicesAlsoIn,
  isBlank,
  spansSplits,
} from './duplicates.ts';
import { DEFAULT_CLASSES, getSplit, type FerDataset, type FerSplit } from './format.ts';
import { readDataset } from './reader.ts';
import { computeStats } from './stats.ts';
import { randomSplitData, requireSharedData, seededRandom } from './testing.ts';

const shared = requireSharedData();

interface DuplicatesJson {
  summary: Record<string, number>;
  blank_images: { items: Array<[string, number]> };
  groups: Array<Array<[string, number]>>;
}

describe.skipIf(!shared)('duplicate analysis on the shared fer4 data', () => {
  let ds: FerDataset;
  let json: DuplicatesJson;
  let train: FerSplit, validation: FerSplit, test: FerSplit;
  beforeAll(async () => {
    ds = await readDataset(shared!);
    json = JSON.parse(readFileSync(join(shared!, 'duplicates.json'), 'utf8'));
    [train, validation, test] = ['train', 'validation', 'test'].map((s) => getSplit(ds, s));
  });

  /** Indices of `split` that share a duplicates.json group with an image of `other`. */
  function fromJson(split: string, other: string): Set<number> {
    const out = new Set<number>();
    for (const g of json.groups) {
      if (g.some(([s]) => s === other)) for (const [s, i] of g) if (s === split) out.add(i);
    }
    return out;
  }

  it('finds the 306 validation and 12 test images that are also in train, as duplicates.json lists', () => {
    const valInTrain = indicesAlsoIn(validation, [train]);
    const testInTrain = indicesAlsoIn(test, [train]);
    expect(valInTrain.size).toBe(306);
    expect(testInTrain.size).toBe(12);
    expect(valInTrain).toEqual(fromJson('validation', 'train'));
    expect(testInTrain).toEqual(fromJson('test', 'train'));
    expect(indicesAlsoIn(test, [validation])).toEqual(fromJson('test', 'validation'));
    expect(indicesAlsoIn(test, [validation]).size).toBe(7);
  });

  it('finds the 3 black blank images at the indices the README gives', () => {
    expect(blankIndices(train)).toEqual([9131, 13292]);
    expect(blankIndices(validation)).toEqual([2154]);
    expect(blankIndices(test)).toEqual([]);
    expect(json.blank_images.items).toEqual([
      ['train', 9131],
      ['train', 13292],
      ['validation', 2154],
    ]);
  });

  it('reproduces the duplicate groups and summary of duplicates.json', () => {
    const groups = findDuplicateGroups(ds.splits);
    const key = (members: Array<[string, number]>) =>
      members
        .map(([s, i]) => `${s}:${i}`)
        .sort()
        .join(' ');
    expect(new Set(groups.map((g) => key(g.members.map((m) => [m.split, m.index]))))).toEqual(
      new Set(json.groups.map(key)),
    );
    expect(groups).toHaveLength(json.summary.groups);
    expect(groups.filter(spansSplits)).toHaveLength(json.summary.groups_spanning_splits);
    expect(groups.filter(hasConflictingLabels)).toHaveLength(json.summary.groups_with_conflicting_labels);
    const stats = computeStats(ds);
    expect(stats.splits.find((s) => s.split === 'train')!.redundantCopies).toBe(
      json.summary.redundant_copies_within_train,
    );
    expect(stats.leakage.map((l) => [l.split, l.alsoIn.join('+'), l.count])).toEqual([
      ['validation', 'train', 306],
      ['test', 'train', 12],
      ['test', 'validation', 7],
      ['test', 'train+validation', 17],
    ]);
  });

  it('cleanTrainIndices drops every train image also in validation or test, and the blanks', async () => {
    const clean = await cleanTrainIndices(shared!);
    const held = new Set([...hashImages(validation), ...hashImages(test)]);
    const trainHashes = hashImages(train);
    const keep = new Set(clean);
    const expectedDropped = trainHashes.filter((h) => held.has(h)).length;
    expect(clean).toEqual([...clean].sort((a, b) => a - b));
    expect(clean.some((i) => held.has(trainHashes[i]))).toBe(false);
    expect(keep.has(9131) || keep.has(13292)).toBe(false);
    // The two train blanks duplicate the validation blank, so they are among the held copies.
    expect(clean).toHaveLength(train.n - expectedDropped);
    expect(expectedDropped).toBeGreaterThan(300);
  });
});

describe('duplicate analysis on synthetic splits', () => {
  const random = seededRandom(11);
  const make = (name: string, n: number): FerSplit => ({
    ...randomSplitData(name, n, 4, random),
    n,
    classes: DEFAULT_CLASSES,
  });
  const copy = (from: FerSplit, i: number, to: FerSplit, j: number, label?: number) => {
    to.pixels.set(from.pixels.subarray(i * 2304, (i + 1) * 2304), j * 2304);
    if (label !== undefined) to.labels[j] = label;
  };

  it('finds planted copies within and across splits, with conflicting labels', () => {
    const a = make('train', 30);
    const b = make('test', 10);
    copy(a, 3, a, 17, a.labels[3]); // within train, same label
    copy(a, 5, b, 2); // across
    copy(a, 5, b, 8); // third member of the same group
    a.labels[5] = 0;
    b.labels[2] = 0;
    b.labels[8] = 1; // conflicting
    expect(indicesAlsoIn(b, [a])).toEqual(new Set([2, 8]));
    expect(indicesAlsoIn(a, [b])).toEqual(new Set([5]));
    const groups = findDuplicateGroups([a, b]);
    expect(groups.map((g) => g.members.map((m) => `${m.split}:${m.index}`))).toEqual(
      expect.arrayContaining([
        ['train:3', 'train:17'],
        ['train:5', 'test:2', 'test:8'],
      ]),
    );
    expect(groups).toHaveLength(2);
    expect(groups.filter(hasConflictingLabels).map((g) => g.members.length)).toEqual([3]);
    expect(cleanIndices(a, [b])).toEqual([...Array(30).keys()].filter((i) => i !== 5));
  });

  it('calls constant and near-constant images blank, and textured ones not', () => {
    const s = make('train', 4);
    s.pixels.fill(200, 0, 2304); // constant grey, not black
    for (let k = 2304; k < 4608; k++) s.pixels[k] = 100 + (k % 3); // std ≈ 0.8
    for (let k = 4608; k < 6912; k++) s.pixels[k] = 100 + (k % 2) * 8; // std = 4
    expect(blankIndices(s)).toEqual([0, 1]);
    expect(isBlank(new Uint8Array(2304))).toBe(true);
    expect(cleanIndices(s, [])).toEqual([2, 3]);
  });
});
