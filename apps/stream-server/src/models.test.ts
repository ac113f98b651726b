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

  test("ensemble.json's class bias comes along", async () => {
    const dir = dirWith({ members: ['cnn'], weights: [1], tta: false, classBias: [0.3, 0, -0.1, 0] });
    expect(await ensembleWeights(dir, ['cnn'])).toEqual({
      weights: [1],
      tta: false,
      classBias: [0.3, 0, -0.1, 0],
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
    ['a class bias that is not numbers', { members: ['cnn'], weights: [1], classBias: ['x'] }],
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

test('a class bias sized for other classes is ignored, and the note says so; one that fits is used', async () => {
  const src = join(DEFAULT_MODELS_DIR, 'efficientnet');
  await useCpuBackend('wasm');
  const wrong = dirWith({ members: ['efficientnet'], weights: [1], tta: false, classBias: [0.2, 0] });
  cpSync(src, join(wrong, 'efficientnet'), { recursive: true });
  const ignored = await loadShippedModels(wrong);
  expect(ignored.classBias).toBeUndefined();
  expect(ignored.ensemble.classBias).toBeUndefined();
  expect(ignored.ensemble.note).toMatch(/class bias for 2 classes, the models have 4: bias ignored/);
  const right = dirWith({
    members: ['efficientnet'],
    weights: [1],
    tta: false,
    classBias: [0.2, 0, 0, -0.1],
  });
  cpSync(src, join(right, 'efficientnet'), { recursive: true });
  const used = await loadShippedModels(right);
  expect(used.classBias).toEqual([0.2, 0, 0, -0.1]);
  expect(used.ensemble).toMatchObject({ classBias: [0.2, 0, 0, -0.1], source: 'ensemble.json' });
  expect(used.ensemble.note).toBeUndefined();
});
