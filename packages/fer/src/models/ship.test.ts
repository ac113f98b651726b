import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EpochLog, type TrainState } from '../train/trainer.ts';
import { trainingRecordOf } from './ship.ts';

describe('training.json', () => {
  const log = (epoch: number, seconds: number) => ({ epoch, seconds, lr: 1e-3 }) as EpochLog;
  const state: TrainState = {
    version: 1,
    config: {
      ...DEFAULT_CONFIG,
      arch: 'cnn',
      dataDir: '/data/fer4',
      out: 'runs/cnn-ft',
      init: 'runs/cnn/best/model.json',
    },
    epoch: 2,
    bestEpoch: 1,
    epochsWithoutImprovement: 1,
    bestMacroF1: 0.7,
    trainSeconds: 30,
    history: [log(1, 14), log(2, 16)],
    initFrom: {
      path: 'runs/cnn/best/model.json',
      recipe: { ...DEFAULT_CONFIG, arch: 'cnn' },
      epochs: 1,
      trainSeconds: 9,
      history: [log(1, 9)],
    },
  };

  it("keeps the recipe without this machine's paths, the curves and where --init weights came from", () => {
    const r = trainingRecordOf(state);
    expect(r.recipe).not.toHaveProperty('dataDir');
    expect(r.recipe).not.toHaveProperty('out');
    expect(r.recipe.init).toBe('runs/cnn/best/model.json');
    expect([r.epochs, r.bestEpoch, r.trainSeconds]).toEqual([2, 1, 30]);
    expect(r.initFrom).toEqual(state.initFrom);
    expect(trainingRecordOf({ ...state, initFrom: undefined })).not.toHaveProperty('initFrom');
  });
});
