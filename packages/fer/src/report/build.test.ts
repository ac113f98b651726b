import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../train/trainer.ts';
import {
  accuracyStandardError,
  accuracyVerdict,
  archDescription,
  augmentationText,
  archTitle,
  bestEpochText,
  curvesFigure,
  ensembleCost,
  recipeRows,
  reproduceTrainLines,
  restartBlocks,
  shipCommandLine,
  scheduleRestarts,
  stageProgressNote,
  statusCell,
  unfinishedPhrase,
  swaBlocks,
  type ModelEntry,
  trainCommandLine,
  type ReportData,
  widthText,
} from './build.ts';
import { wholeTraining } from '../train/origin.ts';
import { membersToRun } from '../models/registry.ts';
import { trainingProgress, type TrainingRecord } from './collect.ts';

const recipe = { ...DEFAULT_CONFIG, arch: 'resnetv2' as const, epochs: 20, workers: 2 };

describe('archTitle and archDescription', () => {
  it("name the shipped network's width: the architecture's default, or the recipe's --width", () => {
    expect(archTitle('cnn')).toBe('Custom CNN');
    expect(archTitle('cnn', 1.25)).toBe('Custom CNN at 1.25 width');
    expect(archDescription('cnn')).toContain('at 32, 64, 128 and 256 channels, each');
    expect(archDescription('cnn', 1.25)).toContain('at 40, 80, 160 and 320 channels (32-64-128-256 × 1.25)');
    expect(archDescription('cnn', 1.25)).toContain('The 3×3×320 result');
    expect(archTitle('vgg16')).toBe('VGG16-BN at ¼ width');
    expect(archTitle('vgg16', 0.375)).toBe('VGG16-BN at ⅜ width');
    expect(archDescription('vgg16')).toContain('(64-128-256-512-512) scaled by ¼ (16-32-64-128-128)');
    expect(archDescription('vgg16', 0.375)).toContain('scaled by ⅜ (24-48-96-192-192)');
    expect(archTitle('efficientnet')).toBe('EfficientNet-B0 scaled to 0.5 width × 0.5 depth');
    expect(archDescription('efficientnet', 0.75)).toContain('compound-scaled to 0.75 width and 0.5 depth');
    expect(archTitle('resnetv2', 2)).toBe('ResNet v2 (pre-activation), 18 layers');
    expect(widthText(0.3)).toBe('0.3');
  });

  it('name the gradients view after the width, and say what it is', () => {
    expect(archTitle('cnn', undefined, 'gradients')).toBe('Custom CNN on Sobel gradients');
    expect(archTitle('vgg16', 0.375, 'gradients')).toBe('VGG16-BN at ⅜ width on Sobel gradients');
    expect(archTitle('cnn', undefined, 'pixels')).toBe('Custom CNN');
    expect(archDescription('resnetv2', undefined, 'gradients')).toMatch(
      /close it\. In front of it sits a fixed \(not trained\) 3×3 Sobel layer and a ReLU \(`--view gradients`\)/,
    );
    expect(archDescription('resnetv2', undefined, 'pixels')).toBe(archDescription('resnetv2'));
    expect(trainCommandLine('cnn', { ...recipe, arch: 'cnn', view: 'gradients' })).toBe(
      'npm run fer -- train --arch cnn --epochs 20 --workers 2 --view gradients',
    );
    expect(trainCommandLine('cnn', { ...recipe, arch: 'cnn', view: 'pixels' })).not.toContain('--view');
  });
});

describe('trainCommandLine', () => {
  it('spells out the epoch budget and workers, and only the flags that differ from the defaults', () => {
    expect(trainCommandLine('resnetv2', recipe)).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 20 --workers 2',
    );
    expect(
      trainCommandLine('resnetv2', {
        ...recipe,
        lr: 0.001,
        augment: false,
        classWeights: 'none',
        labelSmoothing: 0,
        limitPerClass: 100,
        init: 'models/cnn/model.json',
        freeze: 4,
      }),
    ).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 20 --lr 0.001 --label-smoothing 0 --class-weights none ' +
        '--no-augment --workers 2 --limit-per-class 100 --init models/cnn/model.json --freeze 4',
    );
  });
});

describe('random erasing in the recipe', () => {
  it('adds --erase to the command line and a sentence to the augmentation row only where it was used', () => {
    expect(trainCommandLine('resnetv2', { ...recipe, erase: 0.5, seed: 3 })).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 20 --erase 0.5 --seed 3 --workers 2',
    );
    expect(augmentationText(undefined)).not.toContain('erasing');
    expect(augmentationText(0)).toBe(augmentationText(undefined));
    expect(augmentationText(0.5)).toMatch(
      /contrast ×0\.8–1\.2; random erasing with probability 0\.5 \(one rectangle of 2–20% of the image, height\/width 0\.3–3\.3, a random grey\)$/,
    );
  });
});

describe('trainCommandLine for runs from before precise BN', () => {
  it('says --bn-images 0 when the recipe has none', () => {
    const { bnImages: _, ...old } = recipe;
    expect(trainCommandLine('resnetv2', old)).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 20 --workers 2 --bn-images 0',
    );
  });
});

describe('scheduleRestarts', () => {
  const history = (lrs: number[]) =>
    lrs.map((lr, i) => ({ epoch: i + 1, lr }) as TrainingRecord['history'][number]);

  it('finds the epochs where a resumed run restarted its cosine schedule', () => {
    // warm-up to the peak, decay over a 4-epoch budget, then resumed at epoch 5 with 7 epochs
    const lrs = [0.002, 0.0019, 0.0011, 0.0003, 0.0009, 0.0004, 0.0001];
    expect(scheduleRestarts({ recipe: { ...recipe, epochs: 7 }, history: history(lrs) })).toEqual([5]);
  });

  it('finds none in a run that kept one schedule, warm-up included', () => {
    const lrs = [0.001, 0.002, 0.0015, 0.0008, 0.0002];
    expect(scheduleRestarts({ recipe: { ...recipe, warmupEpochs: 1 }, history: history(lrs) })).toEqual([]);
  });
});

describe('a run resumed with a larger budget twice', () => {
  // 4 cosine epochs, resumed to 6 (restart at 5), then to 9 (restart at 7).
  const lrs = [0.002, 0.0015, 0.0006, 0.0001, 0.0009, 0.0001, 0.0012, 0.0006, 0.0001];
  const t: TrainingRecord = {
    recipe: { ...recipe, epochs: 9 },
    epochs: 9,
    bestEpoch: 9,
    trainSeconds: 900,
    history: lrs.map(
      (lr, i) =>
        ({
          epoch: i + 1,
          lr,
          valMacroF1: 0.5 + i / 100,
          seconds: 100,
          best: false,
        }) as TrainingRecord['history'][number],
    ),
  };

  it('lists every restart and every resume needed to repeat the run, in order', () => {
    expect(scheduleRestarts(t)).toEqual([5, 7]);
    const [text] = restartBlocks(t).map((b) => (b as { text: string }).text);
    expect(text).toMatch(/^The learning rate rises again at epochs 5 and 7: /);
    expect(text).toContain(
      'train with `--epochs 4` first, then resume with `--resume --epochs 6`, then `--resume --epochs 9`.',
    );
  });
});

describe('a run that ends in weight averaging (SWA)', () => {
  // 4 cosine epochs, resumed to 6 (a warm restart at 5), then 3 SWA epochs at 3e-4.
  const lrs = [0.002, 0.0015, 0.0006, 0.0001, 0.0009, 0.0001, 0.0003, 0.0003, 0.0003];
  const f1 = [0.5, 0.6, 0.65, 0.7, 0.66, 0.72, 0.71, 0.74, 0.73];
  const t: TrainingRecord = {
    recipe: { ...recipe, epochs: 6, swaEpochs: 3 },
    epochs: 9,
    bestEpoch: 8,
    trainSeconds: 900,
    history: lrs.map(
      (lr, i) =>
        ({
          epoch: i + 1,
          lr,
          valMacroF1: f1[i],
          seconds: 100,
          best: false,
          ...(i >= 6 ? { swa: i - 5 } : {}),
        }) as TrainingRecord['history'][number],
    ),
  };

  it('does not count the step up to the SWA rate as a warm restart', () => {
    expect(scheduleRestarts(t)).toEqual([5]);
  });

  it('counts the SWA epochs in the budget and names the averaged epochs', () => {
    expect(trainingProgress(t)).toEqual({ state: 'complete', epochs: 9, budget: 9 });
    // Stopped after the first of the three SWA epochs: a trained model whose averaging stopped early.
    expect(trainingProgress({ ...t, epochs: 7, bestEpoch: 7, history: t.history.slice(0, 7) })).toEqual({
      state: 'swa-partial',
      epochs: 7,
      budget: 9,
      swaEpochs: 3,
      swaDone: 1,
    });
    // Stopped inside the learning-rate schedule: unfinished.
    expect(trainingProgress({ ...t, epochs: 5, bestEpoch: 5, history: t.history.slice(0, 5) })).toEqual({
      state: 'partial',
      epochs: 5,
      budget: 9,
    });
    expect(trainingProgress({ ...t, epochs: 6, bestEpoch: 5, history: t.history.slice(0, 6) })).toEqual({
      state: 'swa-pending',
      epochs: 6,
      budget: 9,
      swaEpochs: 3,
    });
    const shippedWith = (training: TrainingRecord) =>
      ({ arch: 'resnetv2', dir: '', status: 'shipped', training }) as unknown as ModelEntry;
    const cut = (epochs: number, bestEpoch: number) => ({
      ...t,
      epochs,
      bestEpoch,
      history: t.history.slice(0, epochs),
    });
    expect(statusCell(shippedWith(t))).toBe('trained');
    expect(statusCell(shippedWith(cut(8, 8)))).toBe('trained (SWA 2/3 epochs)');
    // Stopped in its SWA phase with the schedule's own epoch still the best: the average did not pay.
    expect(statusCell(shippedWith(cut(8, 6)))).toBe('trained (SWA 2/3 epochs, not better)');
    expect(stageProgressNote(cut(8, 6))).toBe(
      "8 epochs (the learning-rate schedule's full course, then 2 of the 3 SWA epochs planned after it, " +
        'whose averages scored lower), best epoch 6',
    );
    expect(unfinishedPhrase('resnetv2', trainingProgress(cut(8, 6)), cut(8, 6))).toBe(
      'resnetv2 (2 of 3 SWA epochs, none better than epoch 6)',
    );
    expect(unfinishedPhrase('resnetv2', trainingProgress(cut(8, 8)), cut(8, 8))).toBe(
      'resnetv2 (2 of 3 SWA epochs)',
    );
    expect(unfinishedPhrase('resnetv2', trainingProgress(t), t)).toBeUndefined();
    expect(statusCell(shippedWith(cut(6, 5)))).toBe('trained (SWA not run)');
    expect(statusCell(shippedWith(cut(5, 5)))).toBe('partial (5/9 epochs)');
    expect(stageProgressNote(cut(8, 8))).toBe(
      "8 epochs (the learning-rate schedule's full course, then 2 of the 3 SWA epochs planned after it), " +
        'best epoch 8 (the SWA average of epochs 7–8)',
    );
    expect(bestEpochText(t)).toBe('epoch 8 (the SWA average of epochs 7–8)');
    expect(bestEpochText({ ...t, bestEpoch: 6 })).toBe('epoch 6');
    expect(bestEpochText({ ...t, bestEpoch: 7 })).toBe('epoch 7 (the first SWA epoch)');
  });

  it('names an SWA average shipped with fer ship --from swa as the shipped epoch, not the best', () => {
    // Stopped after the first SWA epoch, whose average (0.71) is below epoch 6's 0.72, and shipped anyway.
    const fromSwa: TrainingRecord = {
      ...t,
      epochs: 7,
      bestEpoch: 7,
      history: t.history.slice(0, 7),
      shippedFrom: 'swa',
    };
    expect(stageProgressNote(fromSwa)).toBe(
      "7 epochs (the learning-rate schedule's full course, then 1 of the 3 SWA epochs planned after it, " +
        'whose averages scored lower), shipped epoch 7 (the first SWA epoch) (`fer ship --from swa`)',
    );
    const shipped = (training: TrainingRecord) =>
      ({ arch: 'resnetv2', dir: '', status: 'shipped', training }) as unknown as ModelEntry;
    expect(statusCell(shipped(fromSwa))).toBe('trained (SWA 1/3 epochs, not better)');
    expect(unfinishedPhrase('resnetv2', trainingProgress(fromSwa), fromSwa)).toBe(
      'resnetv2 (1 of 3 SWA epochs, none better than epoch 6)',
    );
    // Shipped the same way after epoch 8, whose average (0.74) beat epoch 6: nothing to flag.
    const paid: TrainingRecord = {
      ...t,
      epochs: 8,
      bestEpoch: 8,
      history: t.history.slice(0, 8),
      shippedFrom: 'swa',
    };
    expect(statusCell(shipped(paid))).toBe('trained (SWA 2/3 epochs)');
    expect(unfinishedPhrase('resnetv2', trainingProgress(paid), paid)).toBe('resnetv2 (2 of 3 SWA epochs)');
    const stopping = (r: TrainingRecord) => recipeRows(r).find(([k]) => k === 'Early stopping')?.[1];
    expect(stopping(fromSwa)).toContain(
      'shipped: the latest SWA average (`fer ship --from swa`), not the best epoch',
    );
    expect(stopping(t)).toContain('the best epoch is the one shipped (in the SWA epochs: the best average');
    expect(shipCommandLine('resnetv2', 'runs/resnetv2-s2', fromSwa)).toBe(
      'npm run fer -- ship --arch resnetv2 --run runs/resnetv2-s2 --from swa',
    );
    expect(shipCommandLine('resnetv2', 'runs/resnetv2', t)).toBe('npm run fer -- ship --arch resnetv2');
  });

  it('reproduces with --swa (and --swa-lr only where it is not the default) and compares the average', () => {
    expect(trainCommandLine('resnetv2', t.recipe)).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 6 --workers 2 --swa 3',
    );
    expect(trainCommandLine('resnetv2', { ...t.recipe, swaLr: 0.001 })).toBe(
      'npm run fer -- train --arch resnetv2 --epochs 6 --workers 2 --swa 3 --swa-lr 0.001',
    );
    const text = swaBlocks(t).map((b) => (b as { text: string }).text);
    expect(text).toHaveLength(1);
    expect(text[0]).toContain('Epochs 7–9 are stochastic weight averaging (`--swa 3`)');
    expect(text[0]).toContain('constant learning rate of 0.0003');
    expect(text[0]).toContain('0.710, 0.740, 0.730');
    expect(text[0]).toContain('0.720 (epoch 6), so the best average (0.740, 2 epochs) is 0.020 better');
    const restart = restartBlocks(t).map((b) => (b as { text: string }).text);
    expect(restart[0]).toContain(
      'train with `--epochs 4` (no `--swa`) first, then resume with `--resume --epochs 6 --swa 3`',
    );
    expect(
      swaBlocks({ ...t, recipe: { ...t.recipe, swaEpochs: undefined }, history: t.history.slice(0, 6) }),
    ).toEqual([]);
  });
});

describe('trainingProgress', () => {
  const record = (epochs: number, bestEpoch: number): TrainingRecord => ({
    recipe: { ...recipe, patience: 4 },
    epochs,
    bestEpoch,
    trainSeconds: 100,
    history: [],
  });

  it('tells a finished run from an early-stopped and an unfinished one', () => {
    expect(trainingProgress(record(20, 17)).state).toBe('complete');
    expect(trainingProgress(record(12, 8)).state).toBe('stopped-early');
    expect(trainingProgress(record(12, 9)).state).toBe('partial');
    expect(trainingProgress(record(1, 1))).toEqual({ state: 'partial', epochs: 1, budget: 20 });
  });
});

describe('accuracyStandardError', () => {
  it('is the binomial standard error in points', () => {
    expect(accuracyStandardError(0.5, 100)).toBeCloseTo(5, 10);
    expect(accuracyStandardError(0.6, 116)).toBeCloseTo(100 * Math.sqrt(0.24 / 116), 10);
    expect(accuracyStandardError(0.5, 0)).toBeNaN();
  });
});

describe('accuracyVerdict', () => {
  it('counts the correct images still missing to reach a target on n images', () => {
    expect(accuracyVerdict(91 / 116, 116, 0.8)).toBe('no: 2 more correct images needed');
    expect(accuracyVerdict(93 / 116, 116, 0.8)).toBe('yes');
    expect(accuracyVerdict(92 / 116, 116, 0.8)).toBe('no: 1 more correct image needed');
    // 0.8 * 10 is 8.000000000000002 in floating point: 8 of 10 still meets 80%.
    expect(accuracyVerdict(0.8, 10, 0.8)).toBe('yes');
    expect(accuracyVerdict(100 / 116, 116, 0.86)).toBe('yes');
    expect(accuracyVerdict(90 / 116, 116, 0.86)).toBe('no: 10 more correct images needed');
  });
});

describe('the ensemble row counts only the members it runs', () => {
  const cost = (params: number, macs: number) => ({ params, macs });
  const data = (weights: number[], tta: boolean) =>
    ({
      models: [
        { arch: 'cnn', cost: cost(100, 1000) },
        { arch: 'vgg16', cost: cost(20, 300) },
        { arch: 'resnetv2', cost: cost(5, 7) },
      ],
      ensemble: { file: { members: ['cnn', 'vgg16', 'resnetv2'], weights, tta } },
    }) as unknown as ReportData;

  it('skips weight-0 members, as the stream server and ensembleProbs do', () => {
    expect(membersToRun({ members: ['cnn', 'vgg16', 'resnetv2'], weights: [0.7, 0, 0.3] })).toEqual([
      'cnn',
      'resnetv2',
    ]);
    expect(ensembleCost(data([0.7, 0, 0.3], false))).toEqual({ params: 105, macs: 1007 });
    // flip TTA runs each member twice
    expect(ensembleCost(data([0.5, 0.5, 0], true))).toEqual({ params: 120, macs: 2600 });
  });
});

describe('a fine-tune of one of our own models', () => {
  const log = (epoch: number, lr: number, seconds: number, best = false) =>
    ({ epoch, lr, seconds, best, valMacroF1: 0.5 + epoch / 100 }) as TrainingRecord['history'][number];
  // A 4-epoch run, resumed to 6 (warm restart at epoch 5), whose epoch-5 weights were then
  // fine-tuned for 3 epochs without augmentation.
  const origin = {
    path: 'runs/cnn/best/model.json',
    recipe: { ...recipe, arch: 'cnn' as const, epochs: 6 },
    epochs: 5,
    trainSeconds: 500,
    history: [
      log(1, 0.002, 100, true),
      log(2, 0.0015, 100, true),
      log(3, 0.0005, 100),
      log(4, 0.0001, 100, true),
      log(5, 0.0009, 100, true),
    ],
  };
  const fineTune: TrainingRecord = {
    recipe: {
      ...recipe,
      arch: 'cnn',
      epochs: 3,
      lr: 0.0003,
      augment: false,
      init: 'runs/cnn/best/model.json',
    },
    epochs: 3,
    bestEpoch: 2,
    trainSeconds: 250,
    history: [log(1, 0.0003, 80, true), log(2, 0.0002, 85, true), log(3, 0.00001, 85)],
    initFrom: origin,
  };

  it('counts the epochs and the time of the training behind its --init weights', () => {
    const w = wholeTraining(fineTune);
    expect(w.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(w.history[5].lr).toBe(0.0003);
    expect(w.trainSeconds).toBe(750);
    expect(w.epochs).toBe(8);
    expect(w.bestEpoch).toBe(7);
    expect(w.stages.map((s) => [s.firstEpoch, s.lastEpoch, s.recipe.init])).toEqual([
      [1, 5, undefined],
      [6, 8, 'runs/cnn/best/model.json'],
    ]);
  });

  it('draws one curve over both stages and says where each begins', () => {
    const f = curvesFigure('cnn', fineTune);
    if (f.kind !== 'figure') throw new Error('not a figure');
    expect(f.caption).toMatch(
      /Trained in 2 stages: epochs 1–5 trained .*, epochs 6–8 fine-tuned them from `runs\/cnn\/best\/model.json`/,
    );
    expect(f.svg).toContain('best: epoch 7');
    expect(f.caption).toContain('augmented images (un-augmented in epochs 6–8)');
  });

  it('reproduces the chain: the first run into the folder the fine-tune starts from', () => {
    expect(reproduceTrainLines('cnn', fineTune)).toEqual({
      lines: [
        'npm run fer -- train --arch cnn --epochs 6 --workers 2 --out runs/cnn',
        'npm run fer -- train --arch cnn --epochs 3 --lr 0.0003 --no-augment --workers 2 --init runs/cnn/best/model.json --out runs/cnn-stage2',
      ],
      lastOut: 'runs/cnn-stage2',
    });
    // Weights taken from a shipped folder are the best epoch; a checkpoint stays a checkpoint.
    const fromShipped = { ...fineTune, recipe: { ...fineTune.recipe, init: 'models/cnn/model.json' } };
    expect(reproduceTrainLines('cnn', fromShipped).lines[1]).toContain('--init runs/cnn/best/model.json');
    const fromCheckpoint = { ...fineTune, recipe: { ...fineTune.recipe, init: '/elsewhere/run/checkpoint' } };
    expect(reproduceTrainLines('cnn', fromCheckpoint).lines[1]).toContain(
      '--init runs/cnn/checkpoint/model.json',
    );
    // A single run keeps the default folder.
    expect(reproduceTrainLines('cnn', { ...fineTune, initFrom: undefined, recipe: origin.recipe })).toEqual({
      lines: ['npm run fer -- train --arch cnn --epochs 6 --workers 2'],
      lastOut: 'runs/cnn',
    });
  });

  it("places the first stage's warm restart on the whole chain's epoch axis", () => {
    const blocks = restartBlocks(fineTune);
    expect(blocks).toHaveLength(1);
    const b = blocks[0];
    if (b.kind !== 'paragraph') throw new Error('not a paragraph');
    expect(b.text).toMatch(/^In stage 1 \(epochs 1–5 above\) the learning rate rises again at epoch 5:/);
    expect(b.text).toContain(
      'to repeat this stage, train with `--epochs 4` first, then resume with `--resume --epochs 6`',
    );
  });
});
