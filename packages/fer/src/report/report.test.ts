// The whole report on a fixture: a random fer4 folder and a models folder holding one real
// (untrained) vgg16 with hand-written metrics.json, training.json and ensemble.json, all in a
// temporary directory. Runs through the CLI, so option parsing and the summary are covered too.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../models/architectures.ts';
import { saveModel } from '../models/io.ts';
import type { ShippedMetrics } from '../models/ship.ts';
import { evaluate, type EvalReport } from '../eval/evaluate.ts';
import { metricsFromConfusion } from '../eval/metrics.ts';
import { DEFAULT_CLASSES, IMAGE_BYTES } from '../data/format.ts';
import { writeDataset } from '../data/writer.ts';
import { randomSplitData, seededRandom } from '../data/testing.ts';
import { DEFAULT_CONFIG, type EpochLog } from '../train/trainer.ts';
import { useCpuBackend } from '../eval/predict.ts';
import { reportCommand } from '../cli/report.ts';
import { CliError } from '../cli/errors.ts';
import type { TrainingRecord } from './collect.ts';
import { collectReportData, renderReport, timeShippedModels } from './report.ts';

const classes = [...DEFAULT_CLASSES];

function evalReport(split: string, confusion: number[][], removedDuplicates: number): EvalReport {
  return {
    model: 'vgg16',
    split,
    tta: false,
    removedDuplicates,
    removedOtherClasses: 0,
    ...metricsFromConfusion(confusion, classes),
  };
}

// 18 of the 20 test images (2 are copies of train images); 21 of 24 validation images.
const testConfusion = [
  [4, 0, 1, 0],
  [0, 2, 0, 3],
  [1, 0, 3, 0],
  [0, 1, 0, 3],
];
const validationConfusion = [
  [5, 0, 1, 0],
  [0, 1, 0, 4],
  [1, 0, 3, 1],
  [0, 2, 0, 3],
];
const fitted = evalReport('validation', validationConfusion, 3);
const crossFitted = evalReport(
  'validation',
  [
    [4, 1, 1, 0],
    [0, 2, 0, 3],
    [1, 1, 2, 1],
    [0, 2, 1, 2],
  ],
  3,
);
const testMetrics = evalReport('test', testConfusion, 2);

function epochs(n: number): EpochLog[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    lr: 0.002,
    trainLoss: 1.5 - 0.1 * i,
    trainAccuracy: 0.3 + 0.05 * i,
    valLoss: 1.4 - 0.05 * i,
    valAccuracy: 0.32 + 0.04 * i,
    valBalancedAccuracy: 0.31 + 0.04 * i,
    valMacroF1: i === 2 ? 0.3 : 0.3 + 0.05 * i,
    imagesPerSecond: 25,
    seconds: 400 + i,
    best: i < 2,
  }));
}

let root: string;
let modelsDir: string;
let dataDir: string;
let params: number;
let stdout: string;
let exitCode: number;
const read = (path: string) => readFileSync(join(modelsDir, path), 'utf8');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fer-report-test-'));
  dataDir = join(root, 'fer4');
  modelsDir = join(root, 'models');
  const random = seededRandom(21);
  const train = randomSplitData('train', 40, 4, random);
  const validation = randomSplitData('validation', 24, 4, random);
  const test = randomSplitData('test', 20, 4, random);
  // Copies of train images in the evaluation splits, which evaluation must drop.
  for (const [split, count] of [
    [test, 2],
    [validation, 3],
  ] as const) {
    for (let i = 0; i < count; i++)
      split.pixels.set(train.pixels.subarray((5 + i) * IMAGE_BYTES, (6 + i) * IMAGE_BYTES), i * IMAGE_BYTES);
  }
  await writeDataset(dataDir, { classes, splits: [train, validation, test] });

  await useCpuBackend();
  const model = buildModel('vgg16', { numClasses: 4, seed: 3 });
  params = model.countParams();
  await saveModel(model, join(modelsDir, 'vgg16'), { metadata: { arch: 'vgg16', classes } });
  model.dispose();
  const metrics: ShippedMetrics = {
    arch: 'vgg16',
    float16: false,
    float32: { test: testMetrics.accuracy, validation: 12 / 21 },
    test: testMetrics,
    validation: evalReport('validation', validationConfusion, 3),
    shippedAt: '2026-01-01T00:00:00.000Z',
  };
  const training: TrainingRecord = {
    recipe: { ...DEFAULT_CONFIG, arch: 'vgg16', epochs: 10, workers: 2 },
    epochs: 3,
    bestEpoch: 2,
    trainSeconds: 1203,
    history: epochs(3),
  };
  await writeFile(join(modelsDir, 'vgg16', 'metrics.json'), JSON.stringify(metrics));
  await writeFile(join(modelsDir, 'vgg16', 'training.json'), JSON.stringify(training));
  await writeFile(
    join(modelsDir, 'vgg16', 'NOTES.md'),
    'Epochs 1-2 ran before a fix.\nThey are in the curves.\n\nA second paragraph.\n',
  );
  await writeFile(
    join(modelsDir, 'ensemble.json'),
    JSON.stringify({
      members: ['vgg16'],
      weights: [1],
      tta: false,
      fittedOn: 'the fixture',
      classBias: [0.3, 0, -0.2, 0],
      validation: {
        plain: fitted,
        tta: fitted,
        biased: crossFitted,
        crossFitted,
        crossFitRepeats: 10,
        classBiasCheck: { withBias: 0.61, withoutBias: 0.58 },
        ttaCheck: { withTta: 0.6, withoutTta: 0.598, minGain: 0.003 },
        n: 21,
      },
    }),
  );
  await mkdir(join(modelsDir, 'report'), { recursive: true });
  await writeFile(join(modelsDir, 'report', 'stale.svg'), '<svg/>');

  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    exitCode = await reportCommand.run([
      '--data',
      dataDir,
      '--models-dir',
      modelsDir,
      '--runs',
      '1',
      '--no-webgpu',
    ]);
    stdout = log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fer report on a fixture', () => {
  it('prints a summary line per model and the ensemble', () => {
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(
      new RegExp(
        `vgg16 +${(100 * testMetrics.accuracy).toFixed(1)}% +0\\.\\d{3} +${params.toLocaleString('en-US')} `,
      ),
    );
    expect(stdout).toMatch(/wasm \d+\.\d\d\/\d+\.\d\d +webgpu –/);
    for (const a of ['cnn', 'resnetv2', 'efficientnet'])
      expect(stdout).toMatch(new RegExp(`${a} +not shipped yet`));
    expect(stdout).toMatch(/ensemble +\d+\.\d%/);
    expect(stdout).toContain('webgpu: not measured (skipped with --no-webgpu)');
    expect(stdout).toContain(join(modelsDir, 'REPORT.md'));
  });

  it('writes REPORT.md with the summary, the missing models and the evaluated counts', () => {
    const md = read('REPORT.md');
    expect(md).toContain(
      'Shipped: vgg16. Partly trained: vgg16 (3 of 10 epochs). Not shipped yet: cnn, resnetv2, efficientnet',
    );
    expect(md).toContain(
      'vgg16 (3 of 10 epochs) is only partly trained, so its confusions describe an unfinished model',
    );
    const row = md.split('\n').find((l) => l.startsWith('| [vgg16](vgg16/README.md) |'))!;
    expect(row).toContain(`| partial (3/10 epochs) | ${(100 * testMetrics.accuracy).toFixed(1)}% |`);
    expect(row).toContain(`| ${(params / 1e6).toFixed(2)} M |`);
    expect(row).toMatch(/\| [\d.]+ \/ [\d.]+ \| not measured \| 20m03s, 3 ep\. \|/);
    expect(md).toContain('| cnn | not shipped yet |');
    expect(md).toContain('18 of 20 test images (2 also in train removed)');
    expect(md).toContain('21 of 24 validation images (3 also in train removed)');
    // The per-class table carries the fixture's numbers: sad has recall 2/5 on test.
    expect(md).toContain(`| vgg16 | sad | ${(2 / 3).toFixed(3)} | ${(2 / 5).toFixed(3)} |`);
    // The discussion reads the validation matrix: 4 of 5 sad images went to neutral.
    expect(md).toContain('| vgg16 | sad → neutral | 4 of 5 | 80.0% | 3 of 5 | 60.0% |');
    expect(md).toMatch(/\*\*sad ↔ neutral\*\*: 4 sad images called neutral and 2 neutral images called sad/);
  });

  it('evaluates the ensemble on the same deduplicated splits', () => {
    const md = read('REPORT.md');
    expect(md).toMatch(/\| \*\*ensemble\*\* \| vgg16, class bias \| \d+\.\d% \|/);
    expect(md).toContain('| **ensemble** | **macro** |');
    const ensembleSupport = md
      .split('### Validation')[0]
      .split('\n')
      .filter((l) => l.startsWith('| ensemble |'))
      .map((l) => Number(l.split('|')[6].replace(/,/g, '')));
    expect(ensembleSupport.reduce((a, b) => a + b, 0)).toBe(18);
  });

  it('states the targets on the deduplicated test split, beside all test images as the notebooks count', async () => {
    const md = read('REPORT.md');
    expect(md).toContain(
      '| Target | Reached (deduplicated test) | Met | All 20 test images | Published notebook |',
    );
    // The fixture's metrics.json: 12 of 18 right, and 80% of 18 needs 15.
    const all = await evaluate({ dataDir, split: 'test', model: 'vgg16', modelsDir, dedup: false });
    expect(all.n).toBe(20);
    const allCell = `${(100 * all.accuracy).toFixed(1)}% (${Math.round(all.accuracy * 20)} of 20)`;
    expect(md).toContain(
      `| vgg16: test accuracy ≥ 80.0% | 66.7% (12 of 18) | no: 3 more correct images needed | ${allCell} | 78.9% |`,
    );
    expect(md).toMatch(
      /\| ensemble: test accuracy ≥ 86\.0% \| \d+\.\d% \(\d+ of 18\) \| no: \d+ more correct images? needed \| \d+\.\d% \(\d+ of 20\) \| – \|/,
    );
    expect(md).toMatch(
      new RegExp(
        `\\| ensemble: validation macro-F1 ≥ 0\\.800 \\| \\d\\.\\d{3} fitted, ${crossFitted.macroF1.toFixed(3)} held out \\| no: 0\\.\\d{3} short \\|`,
      ),
    );
  });

  it("gives the ensemble's cross-fitted validation score beside its in-sample fit", () => {
    const md = read('REPORT.md');
    expect(md).toContain(
      'Held out by cross-fitting (weights fitted on half of validation score the other half, both ways, ' +
        'pooled over 10 different splits into halves), ' +
        `validation macro-F1 is ${crossFitted.macroF1.toFixed(3)} and accuracy ${(crossFitted.accuracy * 100).toFixed(1)}%.`,
    );
    expect(crossFitted.macroF1.toFixed(3)).not.toBe(fitted.macroF1.toFixed(3));
    expect(md).toContain(
      'A per-class bias on the log-probabilities (happy +0.3, sad +0.0, surprise -0.2, neutral +0.0) ' +
        `then lifts it to ${crossFitted.macroF1.toFixed(3)}. Held out, a fitted class bias scores macro-F1 0.610 ` +
        'against 0.580 without, so it is used.',
    );
    expect(md).toContain(
      'Held out, the whole fit scores macro-F1 0.600 with TTA and 0.598 without; TTA doubles the forward passes ' +
        'per face, so it is used only for a held-out gain of at least 0.003, and is not used.',
    );
  });

  it('writes each chart once as a file referenced from the Markdown, and drops stale ones', () => {
    const md = read('REPORT.md');
    const files = [
      'confusion-vgg16-test.svg',
      'confusion-vgg16-validation.svg',
      'confusion-ensemble-test.svg',
      'confusion-ensemble-validation.svg',
      'training-vgg16.svg',
    ];
    for (const f of files) {
      expect(read(`report/${f}`).startsWith('<svg ')).toBe(true);
      expect(md).toContain(`](report/${f})`);
    }
    expect(existsSync(join(modelsDir, 'report', 'stale.svg'))).toBe(false);
  });

  it('writes report.html as one page with the same content and the charts inline', () => {
    const html = read('report.html');
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).not.toMatch(/report\/[\w-]+\.svg/);
    expect(html).toContain('18 of 20 test images (2 also in train removed)');
    expect(html).toContain('<a href="vgg16/README.md">vgg16</a>');
    expect(html).toContain(`<td class="r">${(100 * testMetrics.accuracy).toFixed(1)}%</td>`);
  });

  it('writes a model card for the shipped model only', () => {
    const card = read('vgg16/README.md');
    expect(card).toContain('# vgg16: VGG16-BN at ¼ width');
    expect(card).toContain(
      '**Work in progress: these weights come from epoch 2 of a run that has trained 3 of its 10 epochs.**',
    );
    expect(card).toContain(`| Parameters | ${params.toLocaleString('en-US')} |`);
    expect(card).toContain('13 convolutions, 3 dense layers');
    expect(card).toContain('Weights are stored as float32');
    expect(card).toContain(
      'npm run fer -- train --arch vgg16 --epochs 10 --workers 2\nnpm run fer -- ship --arch vgg16',
    );
    expect(card).toContain('](../report/training-vgg16.svg)');
    expect(card).toContain('](../report/confusion-vgg16-test.svg)');
    expect(card).toMatch(
      /\*\*Small test set\*\*: 18 images, so test accuracy is uncertain by about ±\d+\.\d points/,
    );
    expect(card).toContain('Trained for 20m03s of wall-clock time');
    // Its own target only: the ensemble's are in REPORT.md.
    expect(card).toMatch(
      /## Target\n\n\| Target \|.*\n.*\n\| vgg16: test accuracy ≥ 80\.0% \| 66\.7% \(12 of 18\) \| no: 3 more/,
    );
    expect(card).not.toContain('ensemble: test accuracy');
    expect(card).toContain(
      '## Notes on this run\n\nEpochs 1-2 ran before a fix. They are in the curves.\n\nA second paragraph.',
    );
    for (const a of ['cnn', 'resnetv2', 'efficientnet'])
      expect(existsSync(join(modelsDir, a, 'README.md'))).toBe(false);
  });

  it('times the shipped models and the ensemble alone, wasm then webgpu (bench gpu-check)', async () => {
    const rand = seededRandom(8);
    const faces = Uint8Array.from({ length: 2 * IMAGE_BYTES }, () => Math.floor(rand() * 256));
    const [wasm, webgpu] = await timeShippedModels(modelsDir, faces, [1, 2], { wasm: 1, webgpu: 1 });
    expect(wasm.backend).toBe('wasm');
    expect(Object.keys(wasm.msPerFace).sort()).toEqual(['ensemble', 'vgg16']);
    for (const m of ['vgg16', 'ensemble'])
      for (const b of [1, 2]) expect(wasm.msPerFace[m][b]).toBeGreaterThan(0);
    expect(webgpu.backend).toBe('webgpu');
    // Every CI machine has a WebGPU adapter (lavapipe at least); elsewhere it may be skipped, saying why.
    if (webgpu.skipped && !process.env.CI) expect(webgpu.skipped.length).toBeGreaterThan(0);
    else expect(webgpu.msPerFace.ensemble[2]).toBeGreaterThan(0);
  });

  it('says so when nothing is shipped', async () => {
    const empty = join(root, 'empty-models');
    await mkdir(empty);
    const data = await collectReportData({ dataDir, modelsDir: empty, runs: 1, gpuRuns: 1, webgpu: false });
    const { markdown, cards, figures } = renderReport(data);
    expect(markdown).toContain('No model is shipped yet.');
    expect(markdown).toContain('The ensemble is not fitted yet');
    expect(markdown).toContain('No shipped model yet: nothing to discuss.');
    expect(cards.size).toBe(0);
    expect(figures.size).toBe(0);
  });

  it('rejects bad options with a usage error', async () => {
    await expect(reportCommand.run(['--runs', '0'])).rejects.toThrow(CliError);
    await expect(reportCommand.run(['--runs', 'x'])).rejects.toThrow(/--runs must be a positive integer/);
    await expect(reportCommand.run(['--bogus'])).rejects.toThrow(CliError);
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const args = ['--data', join(root, 'no-such-data'), '--models-dir', modelsDir, '--no-webgpu'];
      const missing = reportCommand.run(args);
      await expect(missing).rejects.toThrow(CliError);
      await expect(missing).rejects.toThrow(/no-such-data/);
    } finally {
      quiet.mockRestore();
    }
  });
});
