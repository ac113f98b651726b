import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EpochLog, type TrainState } from '../train/trainer.ts';
import { swaEpochOf, trainingRecordOf } from './ship.ts';

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

  it('records the epoch of the shipped weights when an SWA average ships instead of the best epoch', () => {
    expect(trainingRecordOf(state, 2)).toMatchObject({ bestEpoch: 2, shippedFrom: 'swa' });
    expect(trainingRecordOf(state).bestEpoch).toBe(1);
    expect(trainingRecordOf(state)).not.toHaveProperty('shippedFrom');
  });
});

describe('swaEpochOf', () => {
  const log = (epoch: number, swa?: number) => ({ epoch, seconds: 1, lr: 1e-3, ...(swa ? { swa } : {}) }) as EpochLog;
  const state = { epoch: 4, history: [log(1), log(2), log(3, 1), log(4, 2)] } as TrainState;

  it("reads the epoch from the average's metadata and checks the run recorded it as an SWA epoch", () => {
    expect(swaEpochOf({ epoch: 4, swa: { epochs: 2, lr: 3e-4 } }, 'runs/x/swa', state)).toBe(4);
    expect(swaEpochOf({ epoch: 3, swa: { epochs: 1, lr: 3e-4 } }, 'runs/x/swa')).toBe(3);
  });

  it('refuses an average whose metadata or checkpoint does not say which epoch it is', () => {
    expect(() => swaEpochOf({ epoch: 4 }, 'runs/x/swa', state)).toThrow(/does not say which epoch/);
    expect(() => swaEpochOf({ swa: { epochs: 2 } }, 'runs/x/swa', state)).toThrow(/does not say which epoch/);
    // Saved after epoch 5, but the run stopped before its checkpoint recorded epoch 5.
    expect(() => swaEpochOf({ epoch: 5, swa: { epochs: 3 } }, 'runs/x/swa', state)).toThrow(
      /after epoch 5, which the run's checkpoint does not record as an SWA epoch \(it has 4 epochs\)/,
    );
    // Epoch 2 was a cosine epoch, not an SWA one.
    expect(() => swaEpochOf({ epoch: 2, swa: { epochs: 1 } }, 'runs/x/swa', state)).toThrow(/not record/);
  });
});
