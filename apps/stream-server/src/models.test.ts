// Which ensemble weights the server uses for the models it found.
import { cpSync, existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MODELS_DIR, useCpuBackend } from '@affect/fer';
import { ensembleWeights, loadShippedModels, NoModelsError } from './models.ts';

function dirWith(ensemble?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'affect-models-'));
  if (ensemble !== undefined) writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(ensemble));
  return dir;
}

describe('ensembleWeights', () => {
  test('no ensemble.json: equal weights, and says so', async () => {
    const w = await ensembleWeights(dirWith(), ['cnn', 'vgg16']);
    expect(w).toMatchObject({ weights: [0.5, 0.5], source: 'equal-weights', tta: false });
    expect(w.note).toMatch(/no ensemble\.json/);
  });

  test('a fitted ensemble.json over the loaded models: its weights (normalised) and TTA', async () => {
    const dir = dirWith({ members: ['vgg16', 'cnn'], weights: [3, 1], tta: true });
    expect(await ensembleWeights(dir, ['cnn', 'vgg16'])).toEqual({
      weights: [0.25, 0.75],
      tta: true,
      source: 'ensemble.json',
    });
  });

  test('ensemble.json naming a model that is not loaded: equal weights over the loaded ones', async () => {
    const dir = dirWith({ members: ['cnn', 'resnetv2'], weights: [0.5, 0.5], tta: false });
    const w = await ensembleWeights(dir, ['cnn']);
    expect(w).toMatchObject({ weights: [1], source: 'equal-weights' });
    expect(w.note).toMatch(/resnetv2/);
  });

  test('a loaded model missing from ensemble.json gets weight 0, and the note says so', async () => {
    const dir = dirWith({ members: ['cnn'], weights: [1], tta: false });
    const w = await ensembleWeights(dir, ['cnn', 'efficientnet']);
    expect(w).toMatchObject({ weights: [1, 0], source: 'ensemble.json' });
    expect(w.note).toMatch(/efficientnet/);
  });

  test.each([
    ['malformed', { members: ['cnn'], weights: [] }],
    ['negative weights', { members: ['cnn'], weights: [-1] }],
    ['not JSON', 'not json'],
  ])('%s ensemble.json: equal weights with a note', async (_, content) => {
    const dir = mkdtempSync(join(tmpdir(), 'affect-models-'));
    writeFileSync(
      join(dir, 'ensemble.json'),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
    const w = await ensembleWeights(dir, ['cnn']).catch((err: Error) => ({
      source: 'threw',
      note: err.message,
    }));
    expect(w.source).toBe('equal-weights');
    expect(w.note).toBeTruthy();
  });
});

test('no model in the folder: a start-up error that says what to do', async () => {
  const dir = dirWith();
  mkdirSync(join(dir, 'cnn')); // a folder without model.json is not a model
  await expect(loadShippedModels(dir)).rejects.toBeInstanceOf(NoModelsError);
  await expect(loadShippedModels(dir)).rejects.toThrow(/fer train/);
});

test('tta: false turns off the flip TTA that ensemble.json asks for, and the note says so', async () => {
  // One real shipped model (the smallest) with an ensemble.json that asks for TTA.
  const dir = dirWith({ members: ['efficientnet'], weights: [1], tta: true });
  const src = join(DEFAULT_MODELS_DIR, 'efficientnet');
  expect(existsSync(join(src, 'model.json')), `${src} is shipped in the repository`).toBe(true);
  await useCpuBackend('wasm');
  cpSync(src, join(dir, 'efficientnet'), { recursive: true });
  const withTta = await loadShippedModels(dir);
  expect(withTta.ensemble).toMatchObject({ tta: true, source: 'ensemble.json' });
  expect(withTta.ensemble.note).toBeUndefined();
  const without = await loadShippedModels(dir, { tta: false });
  expect(without.ensemble).toMatchObject({
    tta: false,
    source: 'ensemble.json',
    note: 'flip TTA off (--no-tta)',
  });
  expect(without.weights).toEqual([1]);
});
