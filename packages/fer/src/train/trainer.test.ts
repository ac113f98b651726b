import { describe, expect, it } from 'vitest';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireSharedData } from '../data/testing.ts';
import { readModelArtifacts, weightArrays } from '../models/io.ts';
import { GRADIENT_VIEW_KERNELS } from '../models/architectures.ts';
import {
  addToAverage,
  DEFAULT_CONFIG,
  SWA_LR_FRACTION,
  train,
  type EpochLog,
  type TrainConfig,
  type TrainState,
} from './trainer.ts';
import { modelDirOf, readInitOrigin } from './origin.ts';
import { learningRate } from './schedule.ts';

const dataDir = requireSharedData();

describe('learning-rate schedule', () => {
  it('warms up linearly, peaks, then decays by cosine to the floor', () => {
    const s = { lr: 1e-3, warmupEpochs: 1, epochs: 11, floor: 0.1 };
    expect(learningRate(s, 0.5)).toBeCloseTo(0.5e-3, 5);
    expect(learningRate(s, 1)).toBeCloseTo(1e-3, 9);
    expect(learningRate(s, 6)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 9);
    expect(learningRate(s, 11)).toBeCloseTo(1e-4, 9);
    expect(learningRate(s, 3)).toBeGreaterThan(learningRate(s, 4));
  });
});

describe('SWA running average', () => {
  it('equals the plain mean of every set folded in, in any number of steps', () => {
    const rand = (n: number, seed: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.1) * 3 + seed);
    const sets = [1, 2, 3, 4, 5].map((s) => [rand(7, s), rand(3, s + 10)]);
    const avg = sets[0].map((w) => new Float32Array(w.length));
    let count = 0;
    for (const s of sets) count = addToAverage(avg, count, s);
    expect(count).toBe(5);
    avg.forEach((a, t) =>
      a.forEach((v, j) => expect(v).toBeCloseTo(sets.reduce((acc, s) => acc + s[t][j], 0) / 5, 5)),
    );
    expect(() => addToAverage(avg, count, [rand(7, 1)])).toThrow(/different lengths/);
    expect(() => addToAverage(avg, count, [rand(7, 1), rand(4, 1)])).toThrow(/3 values against 4/);
  });
});

describe.skipIf(!dataDir)('training on a small real subset', () => {
  const out = mkdtempSync(join(tmpdir(), 'fer-train-'));
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    arch: 'vgg16',
    dataDir: dataDir!,
    out,
    epochs: 4,
    batch: 32,
    lr: 3e-3,
    warmupEpochs: 0,
    lrFloor: 0.3,
    labelSmoothing: 0,
    augment: false,
    limitPerClass: 24,
    valLimit: 64,
    workers: 2,
    patience: 100,
  };

  let firstRun: EpochLog[] = [];

  it('lowers the training loss, logs every epoch and writes checkpoint and best model', async () => {
    const epochs: number[] = [];
    const result = await train(config, false, { onEpoch: (l) => epochs.push(l.epoch) });
    firstRun = result.state.history.map((l) => ({ ...l }));
    expect(epochs).toEqual([1, 2, 3, 4]);
    const h = result.state.history;
    expect(h[3].trainLoss).toBeLessThan(h[0].trainLoss * 0.9);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.map((l) => l.epoch)).toEqual([1, 2, 3, 4]);
    for (const f of ['model.json', 'weights.bin', 'optimizer.bin', 'state.json']) {
      expect(existsSync(join(out, 'checkpoint', f))).toBe(true);
    }
    expect(existsSync(join(out, 'best', 'model.json'))).toBe(true);
    expect(result.state.bestEpoch).toBeGreaterThanOrEqual(1);
  });

  it('precise BN changes validation only: the same training, no collapse to one class', async () => {
    expect(config.bnImages).toBeGreaterThan(0); // the run above re-estimated batch-norm statistics
    const plain = (
      await train({ ...config, out: mkdtempSync(join(tmpdir(), 'fer-nobn-')), bnImages: 0 }, false)
    ).state.history;
    expect(plain.map((l) => l.trainLoss)).toEqual(firstRun.map((l) => l.trainLoss));
    // 12 steps leave the running averages near their initial values: inference-mode outputs
    // are then one class for every image, which the re-estimated statistics avoid.
    expect(firstRun[3].valAccuracy).toBeGreaterThan(plain[3].valAccuracy + 0.1);
    expect(firstRun[3].valMacroF1).toBeGreaterThan(plain[3].valMacroF1);
  });

  it('resumes from the checkpoint where it stopped, with the worker count given now', async () => {
    const epochs: number[] = [];
    const result = await train({ ...config, epochs: 5, workers: 1, lr: 1 }, true, {
      onEpoch: (l) => epochs.push(l.epoch),
    });
    expect(epochs).toEqual([5]);
    expect(result.state.history).toHaveLength(5);
    expect(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(result.state.config.workers).toBe(1); // where it runs follows the resuming machine
    expect(result.state.config.lr).toBe(config.lr); // the recipe stays the run's own
  });

  it('SWA: constant learning rate after the schedule, a running average that resumes', async () => {
    const swaOut = mkdtempSync(join(tmpdir(), 'fer-swa-'));
    const swaConfig: TrainConfig = { ...config, out: swaOut, epochs: 1, swaEpochs: 1, swaLr: 1e-3 };
    const named = async (dir: string) => weightArrays(await readModelArtifacts(join(swaOut, dir)));
    const checkpointWeights = async () => (await named('checkpoint')).map((w) => w.values);
    // swa.bin holds the average in the order of the checkpoint's weights.
    const average = async () => {
      const shapes = await named('checkpoint');
      const bin = readFileSync(join(swaOut, 'checkpoint', 'swa.bin'));
      const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
      let offset = 0;
      return shapes.map((w) => all.slice(offset, (offset += w.values.length)));
    };
    // swa/ is the average the replicas validated: the same weights, with batch-norm
    // statistics of its own (re-estimated), so only those may differ.
    const expectSwaDirHolds = async (avg: Float32Array[]) => {
      const saved = await named('swa');
      const order = (await named('checkpoint')).map((w) => w.name);
      expect(saved.map((w) => w.name).sort()).toEqual([...order].sort());
      for (const w of saved.filter((x) => !x.name.includes('moving_'))) {
        expect(w.values, w.name).toEqual(avg[order.indexOf(w.name)]);
      }
    };
    const first = await train(swaConfig, false);
    expect(first.state.history.map((l) => l.swa)).toEqual([undefined, 1]);
    expect(first.state.history[1].lr).toBe(1e-3);
    expect(first.state.swaCount).toBe(1);
    const w1 = await checkpointWeights();
    expect(await average()).toEqual(w1); // an average of one set is that set
    await expectSwaDirHolds(w1);
    // Changing the schedule or the SWA rate under a running average is refused.
    await expect(train({ ...swaConfig, epochs: 2, swaEpochs: 2 }, true)).rejects.toThrow(
      /SWA phase after a 1-epoch schedule: resume it with --epochs 1/,
    );
    await expect(train({ ...swaConfig, swaEpochs: 2, swaLr: 5e-4 }, true)).rejects.toThrow(
      /averaged 1 SWA epochs at learning rate 0.001: resume it without --swa-lr/,
    );
    const second = await train({ ...swaConfig, swaEpochs: 2, swaLr: undefined }, true);
    expect(second.state.history.map((l) => l.swa)).toEqual([undefined, 1, 2]);
    expect(second.state.history[2].lr).toBe(1e-3); // the run's own SWA rate
    const w2 = await checkpointWeights();
    expect(w2[0]).not.toEqual(w1[0]); // the checkpoint keeps the training weights, which moved
    const avg = await average();
    avg.forEach((a, t) => a.forEach((v, j) => expect(v).toBeCloseTo((w1[t][j] + w2[t][j]) / 2, 5)));
    await expectSwaDirHolds(avg);
  });

  it('SWA epochs are not stopped early, start after the epochs already trained, and need precise BN', async () => {
    // Patience 0 would stop after any epoch; every SWA epoch still runs.
    const run = await train(
      { ...config, out: mkdtempSync(join(tmpdir(), 'fer-swa-p0-')), epochs: 0, swaEpochs: 2, patience: 0 },
      false,
    );
    expect(run.state.history.map((l) => l.swa)).toEqual([1, 2]);
    expect(run.stoppedEarly).toBe(false);
    // The first run above has trained 5 epochs: SWA cannot start after epoch 2 of it.
    await expect(train({ ...config, epochs: 2, swaEpochs: 1 }, true)).rejects.toThrow(
      /has trained 5 epochs: SWA starts after --epochs, so give --epochs 5 or more/,
    );
    await expect(
      train({ ...config, out: mkdtempSync(join(tmpdir(), 'fer-swa-bn-')), swaEpochs: 1, bnImages: 8 }, false),
    ).rejects.toThrow(/SWA needs precise BN on at least one batch \(--bn-images 16 or more\)/);
  });

  it('refuses to resume a run of another architecture', async () => {
    await expect(train({ ...config, arch: 'cnn', epochs: 6 }, true)).rejects.toThrow(
      /holds a vgg16 run, not cnn: resume it with --arch vgg16/,
    );
  });

  it('trains a width-scaled gradients-view network and resumes it with the same width and view', async () => {
    const wideOut = mkdtempSync(join(tmpdir(), 'fer-width-'));
    const saved = async (prefix: string) =>
      weightArrays(await readModelArtifacts(join(wideOut, 'checkpoint'))).find((w) =>
        w.name.startsWith(prefix),
      )!;
    await train({ ...config, out: wideOut, epochs: 1, width: 0.125, view: 'gradients' }, false);
    // VGG16's first block has 64 filters; × 0.125 = 8 (the default 0.25 gives 16). It reads
    // the view's 4 gradient maps.
    expect((await saved('block1_conv1_conv')).shape).toEqual([3, 3, 4, 8]);
    const sobel = await saved('view_sobel');
    const expected = Array.from({ length: 36 }, (_, i) => GRADIENT_VIEW_KERNELS[i % 4][Math.floor(i / 4)]);
    expect(Array.from(sobel.values)).toEqual(expected);
    // A resume names no width or view (both are part of the recipe): the checkpoint's are used.
    const { width: _w, ...noWidth } = { ...config, width: undefined };
    const resumed = await train({ ...noWidth, out: wideOut, epochs: 2 }, true);
    expect(resumed.state.config.width).toBe(0.125);
    expect(resumed.state.config.view).toBe('gradients');
    expect(resumed.state.history).toHaveLength(2);
    expect((await saved('block1_conv1_conv')).shape).toEqual([3, 3, 4, 8]);
    expect(Array.from((await saved('view_sobel')).values)).toEqual(expected);
  });

  it('fine-tunes from --init with --freeze: frozen layers keep their weights, the rest learn', async () => {
    const initDir = join(out, 'checkpoint');
    const before = weightArrays(await readModelArtifacts(initDir));
    const tuneOut = mkdtempSync(join(tmpdir(), 'fer-tune-'));
    // Layers 0-2 are the input, block1_conv1_conv and its batch norm.
    const tuned = await train(
      { ...config, out: tuneOut, epochs: 1, init: join(initDir, 'model.json'), freeze: 3 },
      false,
    );
    // The run records the training behind its --init weights: the first run's 5 epochs
    // (4, then one more resumed), their curves and their time.
    const initState = JSON.parse(readFileSync(join(initDir, 'state.json'), 'utf8')) as TrainState;
    const origin = tuned.state.initFrom!;
    expect(origin.path).toBe(join(initDir, 'model.json'));
    expect(origin.epochs).toBe(5);
    expect(origin.history).toEqual(initState.history);
    expect(origin.history.slice(0, 4).map((h) => h.valMacroF1)).toEqual(firstRun.map((h) => h.valMacroF1));
    expect(origin.trainSeconds).toBeCloseTo(initState.trainSeconds, 6);
    expect(origin.recipe.lr).toBe(config.lr);
    const after = new Map(
      weightArrays(await readModelArtifacts(join(tuneOut, 'checkpoint'))).map((w) => [w.name, w.values]),
    );
    expect([...after.keys()].sort()).toEqual(before.map((w) => w.name).sort());
    const unchanged = (name: string) => {
      const b = before.find((w) => w.name === name)!.values;
      return after.get(name)!.every((v, j) => v === b[j]);
    };
    const frozen = before.map((w) => w.name).filter((n) => n.startsWith('block1_conv1_'));
    expect(frozen).toEqual(
      expect.arrayContaining(['block1_conv1_conv/kernel', 'block1_conv1_bn/gamma', 'block1_conv1_bn/beta']),
    );
    for (const name of frozen.filter((n) => !n.includes('moving'))) expect(unchanged(name), name).toBe(true);
    expect(unchanged('block1_conv2_conv/kernel')).toBe(false);
    // Resuming the fine-tune keeps its origin.
    const resumed = await train({ ...config, out: tuneOut, epochs: 2 }, true);
    expect(resumed.state.history).toHaveLength(2);
    expect(resumed.state.initFrom).toEqual(origin);
  });

  it("traces a run's best/ weights to the epoch they were saved at, and weights without a record to nothing", async () => {
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')) as TrainState;
    // A run folder whose best/ holds epoch 2 by its state.json, and by its model.json once that says so.
    const run = mkdtempSync(join(tmpdir(), 'fer-origin-'));
    mkdirSync(join(run, 'best'));
    mkdirSync(join(run, 'checkpoint'));
    writeFileSync(join(run, 'checkpoint', 'state.json'), JSON.stringify({ ...state, bestEpoch: 2 }));
    copyFileSync(join(out, 'best', 'weights.bin'), join(run, 'best', 'weights.bin'));
    const modelJson = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    const writeModelJson = (metadata: Record<string, unknown> | undefined) =>
      writeFileSync(
        join(run, 'best', 'model.json'),
        JSON.stringify({ ...modelJson, userDefinedMetadata: metadata }),
      );
    // As the trainer does: the model's own metadata goes with the path.
    const originOf = async (initPath: string) =>
      readInitOrigin(initPath, (await readModelArtifacts(modelDirOf(initPath))).metadata);
    writeModelJson(undefined);
    const byState = (await originOf(join(run, 'best', 'model.json')))!;
    expect(byState.epochs).toBe(2);
    expect(byState.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(byState.trainSeconds).toBeCloseTo(state.history[0].seconds + state.history[1].seconds, 6);
    writeModelJson({ arch: 'vgg16', epoch: 3 });
    expect((await originOf(join(run, 'best')))!.epochs).toBe(3);
    rmSync(join(run, 'checkpoint'), { recursive: true });
    expect(await originOf(join(run, 'best', 'model.json'))).toBeUndefined();
  });

  it('trains on WebGPU with the WGSL augment kernel, resuming a run begun on wasm', async () => {
    const tiny: TrainConfig = {
      ...config,
      out: mkdtempSync(join(tmpdir(), 'fer-gpu-')),
      augment: true,
      erase: 0.5,
      epochs: 1,
      batch: 8,
      limitPerClass: 2,
      valLimit: 8,
    };
    const backends: string[] = [];
    const onStart = (i: { backend: string }) => void backends.push(i.backend);
    await train({ ...tiny, backend: 'wasm', workers: 2 }, false, { onStart });
    const result = await train({ ...tiny, epochs: 2, backend: 'webgpu', workers: 1 }, true, { onStart });
    expect(backends).toEqual(['wasm', 'webgpu']);
    expect(result.state.history).toHaveLength(2);
    expect(result.state.config.backend).toBe('webgpu');
    for (const l of result.state.history) {
      expect(Number.isFinite(l.trainLoss)).toBe(true);
      expect(l.trainLoss).toBeGreaterThan(0);
    }
  });
});
