// Locates the shared fer4 data for tests. It lives beside the repository (../shared/data/fer4
// from the repo root), never inside it. Tests that need it skip when it is absent on a
// developer machine, but fail in CI, where a silent skip would hide a broken data mount.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SplitData } from './writer.ts';
import { mulberry32 } from '@affect/gpu';

/** Repository root: this file is packages/fer/src/data/testing.ts. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
}

/** Where the shared fer4 data should be; it may not exist. */
export function sharedDataDir(): string {
  return resolve(repoRoot(), '../shared/data/fer4');
}

/**
 * The shared data dir when present, else undefined after logging why tests skip. Throws when
 * CI=true, so a missing mount fails the run. Use as `describe.skipIf(!dir)`.
 */
export function requireSharedData(): string | undefined {
  const dir = sharedDataDir();
  if (existsSync(join(dir, 'train.u8'))) return dir;
  const why = `shared fer4 data not found at ${dir} (expected ../shared/data/fer4 beside the repo)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must provide it`);
  console.warn(`${why}; skipping the tests that read it`);
  return undefined;
}

/** A seeded PRNG (mulberry32) in [0, 1), so random test inputs are reproducible. */
export const seededRandom = mulberry32;

/** n random 48x48 images with random labels < classCount and names `<split>/<i>.png`. */
export function randomSplitData(
  split: string,
  n: number,
  classCount: number,
  random: () => number,
): SplitData & { names: string[] } {
  const pixels = new Uint8Array(n * 2304).map(() => Math.floor(random() * 256));
  const labels = new Uint8Array(n).map(() => Math.floor(random() * classCount));
  const names = Array.from({ length: n }, (_, i) => `${split}/${i}.png`);
  return { split, pixels, labels, names };
}
