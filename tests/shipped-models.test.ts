// The shipped models load and reach the test accuracy their metrics.json (and the
// report built from it) claims. Reads ../shared/data/fer4.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../packages/fer/src/data/testing.ts';
import { ARCHS } from '../packages/fer/src/models/architectures.ts';
import { DEFAULT_MODELS_DIR, ENSEMBLE_FILE } from '../packages/fer/src/models/registry.ts';
import { evaluate } from '../packages/fer/src/eval/evaluate.ts';
import type { ShippedMetrics } from '../packages/fer/src/models/ship.ts';

const dataDir = requireSharedData();
const shipped = ARCHS.filter((a) => existsSync(join(DEFAULT_MODELS_DIR, a, 'metrics.json')));

describe.skipIf(!dataDir)('shipped models', () => {
  it('at least one model is shipped', () => {
    expect(shipped.length).toBeGreaterThan(0);
  });

  for (const arch of shipped) {
    it(`${arch} reaches its reported test accuracy`, async () => {
      const claimed = JSON.parse(
        readFileSync(join(DEFAULT_MODELS_DIR, arch, 'metrics.json'), 'utf8'),
      ) as ShippedMetrics;
      const r = await evaluate({ dataDir: dataDir!, split: 'test', model: arch, dedup: true });
      expect(r.n).toBe(claimed.test.n);
      expect(r.confusion).toEqual(claimed.test.confusion);
      expect(r.accuracy).toBeCloseTo(claimed.test.accuracy, 10);
    });
  }

  it.skipIf(!existsSync(join(DEFAULT_MODELS_DIR, ENSEMBLE_FILE)))(
    'the ensemble reaches its reported test accuracy',
    async () => {
      const claimed = JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, ENSEMBLE_FILE), 'utf8')) as {
        test: { n: number; accuracy: number; confusion: number[][] };
      };
      const r = await evaluate({ dataDir: dataDir!, split: 'test', model: 'ensemble', dedup: true });
      expect(r.n).toBe(claimed.test.n);
      expect(r.confusion).toEqual(claimed.test.confusion);
      expect(r.accuracy).toBeCloseTo(claimed.test.accuracy, 10);
    },
  );
});
