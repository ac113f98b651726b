// fer ensemble on the real validation split, fitted over one shipped model only (--members):
// the one left out is listed with weight 0, and the written file carries the held-out checks
// the report reads. One member keeps it short (its grid is a single point).
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireSharedData } from '../packages/fer/src/data/testing.ts';
import { CROSS_FIT_REPEATS, fitEnsemble } from '../packages/fer/src/models/ensemble.ts';
import { DEFAULT_MODELS_DIR, ENSEMBLE_FILE } from '../packages/fer/src/models/registry.ts';
import { evaluate } from '../packages/fer/src/eval/evaluate.ts';

const dataDir = requireSharedData();

describe.skipIf(!dataDir)('fer ensemble --members', () => {
  const dir = mkdtempSync(join(tmpdir(), 'affect-fit-'));
  for (const arch of ['cnn', 'vgg16']) symlinkSync(join(DEFAULT_MODELS_DIR, arch), join(dir, arch));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a member that is not shipped, naming the ones it can use', async () => {
    await expect(fitEnsemble(dataDir!, dir, { only: ['vgg16', 'resnetv2'] })).rejects.toThrow(
      /not shipped in .*: resnetv2; the ensemble can use cnn, vgg16/,
    );
    await expect(fitEnsemble(dataDir!, dir, { only: [] })).rejects.toThrow(/no members named/);
  });

  it('fits over the named members only and lists the others with weight 0', async () => {
    const { spec } = await fitEnsemble(dataDir!, dir, { only: ['vgg16'] });
    expect(spec.members).toEqual(['cnn', 'vgg16']);
    expect(spec.weights).toEqual([0, 1]);
    expect(spec.fittedOn).toContain('over vgg16 only (--members)');
    const v = spec.validation;
    expect(v.n).toBe(4671);
    expect(v.crossFitRepeats).toBe(CROSS_FIT_REPEATS);
    expect(v.crossFitted.n).toBe(4671 * CROSS_FIT_REPEATS);
    // One member alone: the plain fit is vgg16's own validation score, as it shipped.
    const shipped = JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, 'vgg16', 'metrics.json'), 'utf8'));
    expect(v.plain.macroF1).toBeCloseTo(shipped.validation.macroF1, 10);
    // A held-out score is a real estimate, not the in-sample one copied.
    expect(v.crossFitted.macroF1).toBeGreaterThan(0.5);
    expect(v.crossFitted.macroF1).toBeLessThanOrEqual((v.biased ?? v.plain).macroF1 + 1e-9);
    const written = JSON.parse(readFileSync(join(dir, ENSEMBLE_FILE), 'utf8'));
    expect(written.weights).toEqual([0, 1]);
    const r = await evaluate({
      dataDir: dataDir!,
      split: 'test',
      model: 'ensemble',
      modelsDir: dir,
      dedup: true,
    });
    expect(r.confusion).toEqual(spec.test.confusion);
  }, 300_000); // ~50 s alone on 2 idle cores; the full suite runs two files at once
});
