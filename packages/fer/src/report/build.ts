// The content of models/REPORT.md, models/report.html and models/<arch>/README.md, built as
// blocks (doc.ts) from what collect.ts read and report.ts measured. Nothing here reads files
// or runs models, so it is tested on hand-made data.
import { DEFAULT_AUGMENT_RANGES } from '@affect/gpu';
import { DEFAULT_WIDTH, type Arch, type View } from '../models/architectures.ts';
import { membersToRun } from '../models/registry.ts';
import { FLOAT16_TOLERANCE_POINTS } from '../models/ship.ts';
import type { EvalReport } from '../eval/evaluate.ts';
import type { Metrics } from '../eval/metrics.ts';
import { DEFAULT_CONFIG, swaLearningRate, type EpochLog } from '../train/trainer.ts';
import { formatDuration } from '../train/progress.ts';
import { trainingChain, wholeTraining, type WholeTraining } from '../train/origin.ts';
import type { Block } from './doc.ts';
import {
  trainingProgress,
  type DataSummary,
  type EnsembleFile,
  type ModelCost,
  type ModelRecord,
  type TrainingProgress,
  type TrainingRecord,
} from './collect.ts';
import { mostOverPredicted, pairConfusions, pairNote, sumConfusions, topConfusions } from './discussion.ts';
import { confusionMatrixSvg, trainingCurvesSvg } from './svg.ts';

export interface BackendTimings {
  backend: 'wasm' | 'webgpu';
  /** What ran the models: the wasm build, or the WebGPU adapter. */
  device: string;
  /** The same in a few words, for a table header ('llvmpipe, software'); may be empty. */
  label: string;
  /** Why nothing was measured on this backend, when nothing was. */
  skipped?: string;
  runs: number;
  /** Milliseconds per face by model name (an arch or 'ensemble'), then batch size. */
  msPerFace: Record<string, Record<number, number>>;
  /** Per-model failures (the model is left out of this backend's numbers). */
  errors: Record<string, string>;
}

export interface EnsembleResult {
  file: EnsembleFile;
  test?: EvalReport;
  validation?: EvalReport;
  /** Why the ensemble could not be evaluated, e.g. a member is no longer shipped. */
  problem?: string;
}

export type ModelEntry = ModelRecord & { cost?: ModelCost };

export interface HostInfo {
  cpuModel: string;
  cores: number;
  /** 1-minute load average when timing started: other jobs share these cores. */
  loadAverage: number;
}

export interface ReportData {
  generatedAt: string;
  data: DataSummary;
  models: ModelEntry[];
  ensemble?: EnsembleResult;
  /**
   * Each model (an arch or 'ensemble') on the whole test split, copies of train images kept:
   * how the published notebooks count, for a like-for-like comparison only.
   */
  testWithDuplicates?: Record<string, EvalReport>;
  timings: BackendTimings[];
  batches: number[];
  host: HostInfo;
}

/** A width multiplier as people write it: ¼, ⅜, ½, or the decimal where no common fraction fits. */
export function widthText(width: number): string {
  const fractions: Record<string, string> = { '0.25': '¼', '0.375': '⅜', '0.5': '½', '0.75': '¾', '1': '1' };
  return fractions[String(width)] ?? String(width);
}

/** The shipped network's width multiplier: its recipe's `--width`, else the architecture's default. */
function widthOf(arch: Arch, width: number | undefined): number | undefined {
  return width ?? DEFAULT_WIDTH[arch];
}

export function archTitle(arch: Arch, width?: number, view?: View): string {
  return baseTitle(arch, width) + (view === 'gradients' ? ' on Sobel gradients' : '');
}

function baseTitle(arch: Arch, width?: number): string {
  const w = widthOf(arch, width);
  switch (arch) {
    case 'cnn':
      return w === 1 ? 'Custom CNN' : `Custom CNN at ${widthText(w!)} width`;
    case 'vgg16':
      return `VGG16-BN at ${widthText(w!)} width`;
    case 'resnetv2':
      return 'ResNet v2 (pre-activation), 18 layers';
    case 'efficientnet':
      return `EfficientNet-B0 scaled to ${w} width × 0.5 depth`;
  }
}

/** What a view (`fer train --view`) puts in front of the network, as a sentence; '' for pixels. */
function viewText(view: View | undefined): string {
  return view === 'gradients'
    ? ' In front of it sits a fixed (not trained) 3×3 Sobel layer and a ReLU (`--view gradients`): the network ' +
        'sees four maps, the positive and negative parts of the horizontal and vertical intensity gradients, ' +
        'not the gray levels themselves (but for the one-pixel border, where the zero padding lets them through).'
    : '';
}

// From the doc comments and builders in models/architectures.ts; keep the two in step.
export function archDescription(arch: Arch, width?: number, view?: View): string {
  return baseDescription(arch, width) + viewText(view);
}

function baseDescription(arch: Arch, width?: number): string {
  const w = widthOf(arch, width)!;
  switch (arch) {
    case 'cnn': {
      const channels = listText([32, 64, 128, 256].map((c) => String(Math.round(c * w))));
      const scaled = w === 1 ? '' : ` (32-64-128-256 × ${widthText(w)})`;
      return (
        `Four convolution stages of 2, 2, 2 and 1 3×3 convolutions at ${channels} channels${scaled}, each ` +
        'convolution followed by batch normalisation and ReLU, each stage closed by 2×2 max pooling and dropout ' +
        `(0.10, 0.15, 0.20, 0.25). The 3×3×${Math.round(256 * w)} result is flattened into a 256-unit dense layer (BN, ReLU, ` +
        'dropout 0.5) and a softmax over the classes.'
      );
    }
    case 'vgg16':
      return (
        "VGG16's layout: 13 3×3 convolutions in five blocks (2-2-3-3-3), each block closed by a 2×2 max pool, " +
        "then a two-layer dense head (256, 256; BN, ReLU, dropout 0.5) and a softmax. Widths are VGG16's " +
        `(64-128-256-512-512) scaled by ${widthText(w)} ` +
        `(${[64, 128, 256, 512, 512].map((c) => Math.round(c * w)).join('-')}) so that it trains on a CPU, ` +
        'and batch normalisation follows each convolution (VGG16-BN) because plain VGG does not train from ' +
        'scratch reliably at this depth.'
      );
    case 'resnetv2':
      return (
        'Pre-activation residual network (He et al. 2016, "Identity Mappings in Deep Residual Networks"): a 3×3 ' +
        'stem convolution (32 channels) and a 2×2 max pool to 24×24, then four stages of two residual units ' +
        '(BN-ReLU-conv twice) at 32, 64, 128 and 256 channels, stride 2 from the second stage on, with 1×1 ' +
        'projection shortcuts where the shape changes. A final BN-ReLU, global average pooling, dropout 0.3 and ' +
        'a softmax close it.'
      );
    case 'efficientnet':
      return (
        "EfficientNet-B0's MBConv stage table with squeeze-and-excitation (Tan & Le 2019), compound-scaled to " +
        `${w} width and 0.5 depth, swish activations, and a stride-1 stem (a stride-2 stem would leave 1×1 maps ` +
        'after the four stride-2 stages at 48×48 input). A 1×1 top convolution, global average pooling, ' +
        'dropout 0.3 and a softmax close it.'
      );
  }
}

// ---- number formatting -------------------------------------------------------------------

const pct = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const int = (x: number) => x.toLocaleString('en-US');
const millions = (x: number) => `${(x / 1e6).toFixed(2)} M`;
/** FLOPs counted as two per multiply-accumulate. */
const mflops = (macs: number) => `${((2 * macs) / 1e6).toFixed(1)} M`;
const ms = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x)
    ? '–'
    : x >= 100
      ? x.toFixed(0)
      : x >= 10
        ? x.toFixed(1)
        : x.toFixed(2);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** Standard error of an accuracy p measured on n images, in points. */
export function accuracyStandardError(p: number, n: number): number {
  return n > 0 ? 100 * Math.sqrt((p * (1 - p)) / n) : NaN;
}

// ---- shared pieces ------------------------------------------------------------------------

export function shipped(d: ReportData): ModelEntry[] {
  return d.models.filter((m) => m.status === 'shipped' && m.metrics);
}

function splitTotal(d: ReportData, split: string): number | undefined {
  return d.data.splits.find((s) => s.split === split)?.n;
}

/** "116 of 128 test images (12 also in train removed)" */
function evaluatedOf(d: ReportData, r: Pick<EvalReport, 'n' | 'removedDuplicates' | 'split'>): string {
  const total = splitTotal(d, r.split) ?? r.n + r.removedDuplicates;
  return `${int(r.n)} of ${int(total)} ${r.split} images (${int(r.removedDuplicates)} also in train removed)`;
}

function progressNote(t: TrainingRecord | undefined): string {
  if (!t) return 'no training.json';
  if (!t.initFrom) return stageProgressNote(t);
  const w = wholeTraining(t);
  return `${stagesNote(w)}; the fine-tune: ${stageProgressNote(t)} (epoch ${w.bestEpoch} counted across the stages)`;
}

/** "epochs 1–37 trained the weights the next stage started from (5h28m), epochs 38–40 fine-tuned them from `runs/x/best/model.json` (33m)" */
function stagesNote(w: WholeTraining): string {
  return w.stages
    .map((s, i) =>
      i < w.stages.length - 1
        ? `epochs ${s.firstEpoch}–${s.lastEpoch} trained the weights the next stage started from (${formatDuration(s.trainSeconds)})`
        : `epochs ${s.firstEpoch}–${s.lastEpoch} fine-tuned them from \`${s.recipe.init}\` (${formatDuration(s.trainSeconds)})`,
    )
    .join(', ');
}

/** How many epochs the best weights average when they come from an SWA epoch; undefined for one epoch's own weights. */
function bestSwaEpochs(t: Pick<TrainingRecord, 'history' | 'bestEpoch'>): number | undefined {
  return t.history.find((h) => h.epoch === t.bestEpoch)?.swa;
}

/**
 * A run's best epoch on validation before its SWA phase and its best SWA average (the first of
 * equals, as the trainer keeps them); either is undefined where the run has no such epoch.
 */
function bestBeforeAndDuringSwa(history: EpochLog[]): { bestBefore?: EpochLog; bestSwa?: EpochLog } {
  const best = (epochs: EpochLog[]) =>
    epochs.reduce<EpochLog | undefined>((a, h) => (!a || h.valMacroF1 > a.valMacroF1 ? h : a), undefined);
  return {
    bestBefore: best(history.filter((h) => h.swa === undefined)),
    bestSwa: best(history.filter((h) => h.swa !== undefined)),
  };
}

/**
 * The epoch before the SWA phase that no SWA average beat on validation, or undefined where one
 * did. For weights from best/ that is the shipped best epoch whenever it is not an average; an
 * average shipped with `fer ship --from swa` ships whether or not it beat that epoch, so it is
 * compared by the run's history instead.
 */
function swaNotBetterThan(
  t: Pick<TrainingRecord, 'history' | 'bestEpoch' | 'shippedFrom'>,
): number | undefined {
  if (t.shippedFrom !== 'swa') return bestSwaEpochs(t) ? undefined : t.bestEpoch;
  const { bestBefore, bestSwa } = bestBeforeAndDuringSwa(t.history);
  return bestBefore && bestSwa && bestSwa.valMacroF1 <= bestBefore.valMacroF1 ? bestBefore.epoch : undefined;
}

/**
 * "epoch 62 (the SWA average of epochs 53–62)" for weights from an SWA epoch ("epoch 53 (the
 * first SWA epoch)" before there is anything to average), else "epoch 24".
 */
export function bestEpochText(t: Pick<TrainingRecord, 'history' | 'bestEpoch'>): string {
  const swa = bestSwaEpochs(t);
  if (!swa) return `epoch ${t.bestEpoch}`;
  if (swa === 1) return `epoch ${t.bestEpoch} (the first SWA epoch)`;
  return `epoch ${t.bestEpoch} (the SWA average of epochs ${t.bestEpoch - swa + 1}–${t.bestEpoch})`;
}

export function stageProgressNote(t: TrainingRecord): string {
  const p = trainingProgress(t);
  const best =
    t.shippedFrom === 'swa'
      ? `shipped ${bestEpochText(t)} (\`fer ship --from swa\`)`
      : `best ${bestEpochText(t)}`;
  if (p.state === 'complete') return `${p.epochs} epochs (full budget), ${best}`;
  if (p.state === 'stopped-early')
    return `stopped early after ${p.epochs} of ${p.budget} epochs (no better validation macro-F1 for ${p.patience}), ${best}`;
  if (p.state === 'swa-pending')
    return `${p.epochs} epochs (the learning-rate schedule's full course; the ${p.swaEpochs} SWA epochs planned after it have not run), ${best}`;
  if (p.state === 'swa-partial')
    return (
      `${p.epochs} epochs (the learning-rate schedule's full course, then ${p.swaDone} of the ${p.swaEpochs} SWA epochs planned after it` +
      `${swaNotBetterThan(t) === undefined ? '' : ', whose averages scored lower'}), ${best}`
    );
  return `**partial: ${p.epochs} of ${p.budget} epochs trained**, ${best}`;
}

function trainingCell(w: WholeTraining): string {
  const ep = w.stages.map((s) => s.lastEpoch - s.firstEpoch + 1).join(' + ');
  return `${formatDuration(w.trainSeconds)}, ${ep} ep.`;
}

export function statusCell(m: ModelEntry): string {
  if (m.status === 'missing') return 'not shipped yet';
  if (m.status === 'unshipped') return 'model.json without metrics.json: rerun fer ship';
  if (!m.training) return 'shipped';
  const p = trainingProgress(m.training);
  if (p.state === 'partial') return `partial (${p.epochs}/${p.budget} epochs)`;
  if (p.state === 'swa-pending') return 'trained (SWA not run)';
  if (p.state === 'swa-partial')
    return `trained (SWA ${p.swaDone}/${p.swaEpochs} epochs${swaNotBetterThan(m.training) === undefined ? '' : ', not better'})`;
  return 'trained';
}

function timingCell(d: ReportData, backend: 'wasm' | 'webgpu', name: string): string {
  const t = d.timings.find((x) => x.backend === backend);
  if (!t || t.skipped) return 'not measured';
  if (t.errors[name]) return 'failed';
  const byBatch = t.msPerFace[name];
  if (!byBatch) return '–';
  return d.batches.map((b) => ms(byBatch[b])).join(' / ');
}

function timingHeader(d: ReportData, backend: 'wasm' | 'webgpu'): string {
  const label = d.timings.find((t) => t.backend === backend && !t.skipped)?.label;
  return `${backend} ms/face (${label ? `${label}; ` : ''}batch ${d.batches.join(' / ')})`;
}

/** Parameters and multiply-accumulates per face of the members the ensemble runs. */
export function ensembleCost(d: ReportData): { params: number; macs: number } | undefined {
  const e = d.ensemble;
  if (!e) return undefined;
  const members = membersToRun(e.file).map((a) => d.models.find((m) => m.arch === a)?.cost);
  if (members.some((c) => !c)) return undefined;
  const passes = e.file.tta ? 2 : 1;
  return {
    params: members.reduce((s, c) => s + c!.params, 0),
    macs: passes * members.reduce((s, c) => s + c!.macs, 0),
  };
}

export function confusionFigure(name: string, r: EvalReport, d: ReportData): Block {
  return {
    kind: 'figure',
    file: `confusion-${name}-${r.split}.svg`,
    svg: confusionMatrixSvg(r, `${name}: ${r.split} confusion`),
    alt: `${name}: ${r.split} confusion matrix`,
    caption:
      `${name} on ${evaluatedOf(d, r)}: rows are the true class, columns the prediction; each cell gives the ` +
      'count and its share of the row.',
  };
}

/** Which images the training metrics of each stage saw. */
function trainImagesText(w: WholeTraining): string {
  const plain = w.stages.filter((s) => !s.recipe.augment);
  if (plain.length === 0) return 'augmented images';
  if (plain.length === w.stages.length) return 'un-augmented images';
  return `augmented images (un-augmented in epochs ${plain.map((s) => `${s.firstEpoch}–${s.lastEpoch}`).join(', ')})`;
}

export function curvesFigure(arch: Arch, t: TrainingRecord): Block {
  const w = wholeTraining(t);
  const stages =
    w.stages.length > 1
      ? ` Trained in ${w.stages.length} stages: ${stagesNote(w)}; epochs are numbered across the stages.`
      : '';
  return {
    kind: 'figure',
    file: `training-${arch}.svg`,
    svg: trainingCurvesSvg(w.history, `${arch}: training curves`),
    alt: `${arch}: training curves`,
    caption:
      `${arch} per epoch. Train loss and accuracy are taken during training: ${trainImagesText(w)}, dropout on, ` +
      `class-weighted loss with label smoothing ${t.recipe.labelSmoothing}, so they sit below what the same weights ` +
      'score on clean images. Validation is the deduplicated validation split. The dashed line marks the best epoch ' +
      `by validation macro-F1, the one shipped.${stages}` +
      (w.history.some((h) => h.swa !== undefined)
        ? ' The shaded epochs are weight averaging (SWA): their validation points score the running average of ' +
          'the weights, not the weights being trained.'
        : ''),
  };
}

function perClassRows(name: string, r: Metrics): string[][] {
  return [
    ...r.perClass.map((c) => [name, c.class, f3(c.precision), f3(c.recall), f3(c.f1), int(c.support)]),
    [
      `**${name}**`,
      '**macro**',
      `**${f3(r.macroPrecision)}**`,
      `**${f3(r.macroRecall)}**`,
      `**${f3(r.macroF1)}**`,
      `**${int(r.n)}**`,
    ],
  ];
}

const PER_CLASS_HEAD = ['Model', 'Class', 'Precision', 'Recall', 'F1', 'Support'];
const PER_CLASS_ALIGN: Array<'left' | 'right'> = ['left', 'left', 'right', 'right', 'right', 'right'];

function dataBlocks(d: ReportData): Block[] {
  const rows = d.data.splits.map((s) => [s.split, ...s.perClass.map(int), int(s.n)]);
  const alsoInTrain = Object.entries(d.data.alsoInTrain)
    .map(([split, n]) => `${int(n)} ${split}`)
    .join(' and ');
  return [
    {
      kind: 'paragraph',
      text:
        `fer4 (\`${d.data.dir}\`): 48×48 gray faces from FER2013 in four classes. Its counts per split and ` +
        'class, before any cleaning:',
    },
    {
      kind: 'table',
      head: ['Split', ...d.data.classes, 'Total'],
      rows,
      align: ['left', ...d.data.classes.map(() => 'right' as const), 'right'],
    },
    {
      kind: 'list',
      items: [
        `**Training** uses ${int(d.data.cleanTrain)} train images: every train image that also appears (identical pixels) ` +
          `in validation or test is dropped, and so are blank images (pixel standard deviation below 3; ${d.data.blank} in fer4).`,
        `**Evaluation** drops the images of the evaluated split that also appear in train (${alsoInTrain}), so no ` +
          'score rewards memorising a training image. Validation is also what early stopping and the ensemble weights ' +
          'are chosen on, which makes validation numbers slightly optimistic.',
        `${d.data.testAlsoInValidation} test images also appear in validation; they are kept (nothing trains on validation).`,
        `fer4 holds ${int(d.data.duplicateGroups)} groups of identical images, ${d.data.conflictingLabelGroups} of them ` +
          'with conflicting labels: a small, countable part of the label noise.',
      ],
    },
  ];
}

// ---- REPORT.md / report.html -----------------------------------------------------------------

function summaryBlocks(d: ReportData): Block[] {
  const head = [
    'Model',
    'Status',
    'Test acc.',
    'Test macro P / R / F1',
    'Val. acc.',
    'Val. macro-F1',
    'Params',
    'FLOPs',
    timingHeader(d, 'wasm'),
    timingHeader(d, 'webgpu'),
    'Training',
  ];
  const rows: string[][] = d.models.map((m) => {
    const t = m.metrics?.test;
    const v = m.metrics?.validation;
    return [
      m.status === 'missing' ? m.arch : `[${m.arch}](${m.arch}/README.md)`,
      statusCell(m),
      pct(t?.accuracy),
      t ? `${f3(t.macroPrecision)} / ${f3(t.macroRecall)} / ${f3(t.macroF1)}` : '–',
      pct(v?.accuracy),
      f3(v?.macroF1),
      m.cost ? millions(m.cost.params) : '–',
      m.cost ? mflops(m.cost.macs) : '–',
      m.status === 'missing' ? '–' : timingCell(d, 'wasm', m.arch),
      m.status === 'missing' ? '–' : timingCell(d, 'webgpu', m.arch),
      m.training ? trainingCell(wholeTraining(m.training)) : '–',
    ];
  });
  const e = d.ensemble;
  const ec = ensembleCost(d);
  if (e) {
    const t = e.test;
    const train = membersToRun(e.file)
      .map((a) => {
        const t = d.models.find((m) => m.arch === a)?.training;
        return t ? wholeTraining(t).trainSeconds : NaN;
      })
      .reduce((s, x) => s + x, 0);
    rows.push([
      '**ensemble**',
      e.problem
        ? `not evaluated: ${e.problem}`
        : `${membersToRun(e.file).join(' + ')}${e.file.tta ? ', flip TTA' : ''}${e.file.classBias ? ', class bias' : ''}`,
      pct(t?.accuracy),
      t ? `${f3(t.macroPrecision)} / ${f3(t.macroRecall)} / ${f3(t.macroF1)}` : '–',
      pct(e.validation?.accuracy),
      f3(e.validation?.macroF1),
      ec ? millions(ec.params) : '–',
      ec ? mflops(ec.macs) : '–',
      timingCell(d, 'wasm', 'ensemble'),
      timingCell(d, 'webgpu', 'ensemble'),
      Number.isFinite(train) ? `${formatDuration(train)} (members)` : '–',
    ]);
  } else {
    rows.push(['ensemble', 'not fitted yet', '–', '–', '–', '–', '–', '–', '–', '–', '–']);
  }
  const notes: string[] = [];
  const first = shipped(d)[0]?.metrics;
  if (first) {
    notes.push(
      `**Test**: ${evaluatedOf(d, first.test)}. With so few images one standard error of an accuracy near ` +
        `${pct(first.test.accuracy)} is ±${accuracyStandardError(first.test.accuracy, first.test.n).toFixed(1)} points; ` +
        'differences of a few points between models on test are noise.',
      `**Validation**: ${evaluatedOf(d, first.validation)}; the larger and steadier estimate, though the best epoch ` +
        '(and the ensemble weights) were chosen on it.',
    );
  }
  notes.push(
    '**FLOPs** count two per multiply-accumulate of the convolution and dense layers (over 97% of the work); ' +
      'the ensemble sums the members it runs (weight above 0)' +
      (e?.file.tta ? ', twice over for flip TTA.' : '.'),
  );
  for (const t of d.timings) {
    if (t.skipped) {
      notes.push(`**${t.backend}**: not measured (${t.skipped}).`);
      continue;
    }
    const failed = Object.entries(t.errors).map(([n, why]) => `${n}: ${why}`);
    notes.push(
      `**${t.backend}** ms per face: median of ${t.runs} timed runs after warm-up, whole batches of real test images ` +
        `including upload and read-back, divided by the batch size; run on ${t.device}.` +
        (failed.length ? ` Failed: ${failed.join('; ')}.` : ''),
    );
  }
  notes.push(
    `Timings come from a ${d.host.cores}-core ${d.host.cpuModel} whose 1-minute load average was ` +
      `${d.host.loadAverage.toFixed(1)} when timing began (other jobs share it): read them as upper bounds and compare ` +
      'models with each other rather than with other machines.',
    '**Training** is the wall-clock time of the training epochs, validation included (data-parallel worker ' +
      'threads on the wasm backend, on a 2-core CPU), over the epochs listed.',
  );
  return [
    { kind: 'table', head, rows, align: head.map((_, i) => (i >= 2 && i <= 9 ? 'right' : 'left')) },
    { kind: 'list', items: notes },
  ];
}

// ---- targets ---------------------------------------------------------------------------------

/** The accuracy targets the models were built against (the models issue). */
export const TARGETS = {
  modelTestAccuracy: 0.8,
  ensembleTestAccuracy: 0.86,
  ensembleValidationMacroF1: 0.8,
} as const;

/** Test accuracy that public notebooks reached on this same split (all 128 test images). */
export const PUBLISHED_TEST_ACCURACY: Record<Arch, number> = {
  cnn: 0.836,
  vgg16: 0.789,
  resnetv2: 0.68,
  efficientnet: 0.25,
};

/** "yes", or "no: 2 more correct images needed" for an accuracy target on n images. */
export function accuracyVerdict(accuracy: number, n: number, target: number): string {
  const correct = Math.round(accuracy * n);
  const needed = Math.ceil(target * n - 1e-9);
  if (correct >= needed) return 'yes';
  const short = needed - correct;
  return `no: ${short} more correct image${short === 1 ? '' : 's'} needed`;
}

function scoredOn(r: EvalReport | undefined): string {
  return r ? `${pct(r.accuracy)} (${int(Math.round(r.accuracy * r.n))} of ${int(r.n)})` : '–';
}

/** The targets table: every shipped model and the ensemble, or (for a model card) one model. */
export function targetsBlocks(d: ReportData, only?: Arch): Block[] {
  const all = d.testWithDuplicates ?? {};
  const testTotal = splitTotal(d, 'test');
  const allHead = testTotal === undefined ? 'All test images' : `All ${int(testTotal)} test images`;
  const head = ['Target', 'Reached (deduplicated test)', 'Met', allHead, 'Published notebook'];
  const models = shipped(d).filter((m) => only === undefined || m.arch === only);
  const rows: string[][] = models.map((m) => {
    const t = m.metrics!.test;
    return [
      `${m.arch}: test accuracy ≥ ${pct(TARGETS.modelTestAccuracy)}`,
      scoredOn(t),
      accuracyVerdict(t.accuracy, t.n, TARGETS.modelTestAccuracy),
      scoredOn(all[m.arch]),
      pct(PUBLISHED_TEST_ACCURACY[m.arch]),
    ];
  });
  const e = only === undefined ? d.ensemble : undefined;
  if (e?.test) {
    rows.push([
      `ensemble: test accuracy ≥ ${pct(TARGETS.ensembleTestAccuracy)}`,
      scoredOn(e.test),
      accuracyVerdict(e.test.accuracy, e.test.n, TARGETS.ensembleTestAccuracy),
      scoredOn(all.ensemble),
      '–',
    ]);
  }
  if (e?.validation) {
    const heldOut = e.file.validation?.crossFitted?.macroF1;
    const judged = heldOut ?? e.validation.macroF1;
    rows.push([
      `ensemble: validation macro-F1 ≥ ${f3(TARGETS.ensembleValidationMacroF1)}`,
      `${f3(e.validation.macroF1)} fitted` + (heldOut === undefined ? '' : `, ${f3(heldOut)} held out`),
      judged >= TARGETS.ensembleValidationMacroF1
        ? 'yes'
        : `no: ${f3(TARGETS.ensembleValidationMacroF1 - judged)} short`,
      '–',
      '–',
    ]);
  }
  if (rows.length === 0) return [{ kind: 'paragraph', text: 'No shipped model yet.' }];
  const first = models[0]?.metrics?.test ?? e?.test;
  return [
    { kind: 'table', head, rows, align: ['left', 'right', 'left', 'right', 'right'] },
    {
      kind: 'paragraph',
      text:
        'Targets are judged like every test number in this report, on the deduplicated test split' +
        (first ? `: ${evaluatedOf(d, first)}` : '') +
        (e?.validation
          ? "; the ensemble's validation macro-F1 held out by cross-fitting where that was measured"
          : '') +
        '. ' +
        'The published notebooks score all test images, copies of training images included; the "All" column ' +
        'scores our models the same way for a like-for-like comparison and judges nothing. ' +
        (first
          ? `One test image is ${(100 / first.n).toFixed(1)} points and one standard error ` +
            `±${accuracyStandardError(first.accuracy, first.n).toFixed(1)}, so test differences of a few points are noise.`
          : ''),
    },
  ];
}

function perClassBlocks(d: ReportData, split: 'test' | 'validation'): Block[] {
  const reports: Array<[string, EvalReport]> = shipped(d).map((m) => [m.arch, m.metrics![split]]);
  const ens = d.ensemble?.[split];
  if (ens) reports.push(['ensemble', ens]);
  if (reports.length === 0) return [{ kind: 'paragraph', text: 'No shipped model yet.' }];
  return [
    { kind: 'paragraph', text: `${evaluatedOf(d, reports[0][1])}.` },
    {
      kind: 'table',
      head: PER_CLASS_HEAD,
      rows: reports.flatMap(([n, r]) => perClassRows(n, r)),
      align: PER_CLASS_ALIGN,
    },
  ];
}

function ensembleBlocks(d: ReportData): Block[] {
  const e = d.ensemble;
  if (!e) {
    return [
      {
        kind: 'paragraph',
        text:
          'Not fitted yet: there is no `models/ensemble.json`. Once the members are shipped, `npm run fer -- ensemble` ' +
          'fits their weights on validation and `npm run fer -- report` adds the ensemble here.',
      },
    ];
  }
  const blocks: Block[] = [
    {
      kind: 'table',
      head: ['Member', 'Weight'],
      rows: e.file.members.map((m, i) => [
        m,
        e.file.weights[i] > 0 ? e.file.weights[i].toFixed(2) : '0 (not run)',
      ]),
      align: ['left', 'right'],
    },
    {
      kind: 'paragraph',
      text:
        `Weights fitted on ${e.file.fittedOn ?? 'validation'}; ${e.file.tta ? 'with' : 'without'} flip test-time ` +
        'augmentation (each member averaged over the image and its mirror image).' +
        (e.file.validation
          ? ` On that fit, validation macro-F1 was ${f3(e.file.validation.plain.macroF1)} without TTA and ` +
            `${f3(e.file.validation.tta.macroF1)} with it. Its validation scores are therefore fitted, not held out; ` +
            'test is the honest comparison.' +
            (e.file.validation.ttaCheck
              ? ` Held out, the whole fit scores macro-F1 ${f3(e.file.validation.ttaCheck.withTta)} with TTA and ` +
                `${f3(e.file.validation.ttaCheck.withoutTta)} without; TTA doubles the forward passes per face, so it ` +
                `is used only for a held-out gain of at least ${e.file.validation.ttaCheck.minGain}, and is ` +
                `${e.file.tta ? 'used' : 'not used'}.`
              : '') +
            (e.file.classBias
              ? ` A per-class bias on the log-probabilities (${e.file.classBias
                  .map((b, c) => `${e.file.validation!.plain.classes[c]} ${b >= 0 ? '+' : ''}${b.toFixed(1)}`)
                  .join(', ')}) ` + `then lifts it to ${f3(e.file.validation.biased?.macroF1)}.`
              : '') +
            (e.file.validation.classBiasCheck
              ? ` Held out, a fitted class bias scores macro-F1 ${f3(e.file.validation.classBiasCheck.withBias)} against ` +
                `${f3(e.file.validation.classBiasCheck.withoutBias)} without, so it is ${e.file.classBias ? 'used' : 'not used'}.`
              : '') +
            (e.file.validation.crossFitted
              ? ` Held out by cross-fitting (weights fitted on half of validation score the other half, both ways` +
                ((e.file.validation.crossFitRepeats ?? 1) > 1
                  ? `, pooled over ${e.file.validation.crossFitRepeats} different splits into halves), `
                  : '), ') +
                `validation macro-F1 is ${f3(e.file.validation.crossFitted.macroF1)} and accuracy ` +
                `${pct(e.file.validation.crossFitted.accuracy)}.`
              : '')
          : ''),
    },
  ];
  if (e.problem) blocks.push({ kind: 'paragraph', text: `**Not evaluated**: ${e.problem}.` });
  return blocks;
}

/** Named matrices for the discussion: each shipped model, then the ensemble. */
function evaluated(d: ReportData, split: 'test' | 'validation'): Array<{ name: string; r: EvalReport }> {
  const out = shipped(d).map((m) => ({ name: m.arch as string, r: m.metrics![split] }));
  const ens = d.ensemble?.[split];
  if (ens) out.push({ name: 'ensemble', r: ens });
  return out;
}

export function discussionBlocks(d: ReportData): Block[] {
  const val = evaluated(d, 'validation');
  const test = evaluated(d, 'test');
  if (val.length === 0) return [{ kind: 'paragraph', text: 'No shipped model yet: nothing to discuss.' }];
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      text:
        `Read off the validation confusion matrices (${int(val[0].r.n)} images; test, with ${int(test[0].r.n)}, has a ` +
        'handful of images per cell and is shown beside them). "Share" is the part of the true class sent to the ' +
        'predicted one.',
    },
  ];
  const rows: string[][] = [];
  for (const { name, r } of val) {
    const t = test.find((x) => x.name === name)?.r;
    for (const c of topConfusions(r, 3)) {
      const ti = t ? t.classes.indexOf(c.truth) : -1;
      const tj = t ? t.classes.indexOf(c.predicted) : -1;
      const tCount = t && ti >= 0 && tj >= 0 ? t.confusion[ti][tj] : undefined;
      const tSupport = t && ti >= 0 ? t.confusion[ti].reduce((a, b) => a + b, 0) : 0;
      rows.push([
        name,
        `${c.truth} → ${c.predicted}`,
        `${int(c.count)} of ${int(c.support)}`,
        pct(c.rate),
        tCount === undefined ? '–' : `${tCount} of ${tSupport}`,
        tCount === undefined || tSupport === 0 ? '–' : pct(tCount / tSupport),
      ]);
    }
  }
  blocks.push({
    kind: 'table',
    head: ['Model', 'True → predicted', 'Validation images', 'Share', 'Test images', 'Test share'],
    rows,
    align: ['left', 'left', 'right', 'right', 'right', 'right'],
  });

  // The class pairs over all individual models together, both directions.
  const members = val.filter((x) => x.name !== 'ensemble');
  const summed = sumConfusions((members.length ? members : val).map((x) => x.r));
  const pairs = pairConfusions(summed).filter((p) => p.aToB + p.bToA > 0);
  const scope =
    members.length > 1
      ? `the ${members.length} models' validation matrices summed`
      : `${val[0].name} on validation`;
  blocks.push({
    kind: 'paragraph',
    text: `The class pairs most often mixed up, both directions together (${scope}):`,
  });
  blocks.push({
    kind: 'list',
    items: pairs.slice(0, 3).map((p) => {
      const note = pairNote(p.a, p.b);
      return (
        `**${p.a} ↔ ${p.b}**: ${int(p.aToB)} ${p.a} images called ${p.b} and ${int(p.bToA)} ${p.b} images called ${p.a}, ` +
        `${pct(p.rate)} of the two classes' images.` +
        (note ? ` Likely why: ${note}` : '')
      );
    }),
  });

  const biased = val.flatMap(({ name, r }) => {
    const b = mostOverPredicted(r);
    return b
      ? [
          `${name} predicts ${b.class} for ${pct(b.predicted)} of validation images, while ${pct(b.truth)} of them are ${b.class}`,
        ]
      : [];
  });
  if (biased.length) {
    blocks.push({
      kind: 'paragraph',
      text:
        `Some confusions are a bias rather than a pair: ${biased.join('; ')}. A model that falls back on one class ` +
        'sends every uncertain face there, which inflates every "→ that class" cell at once.',
    });
  }
  const partial = shipped(d).flatMap((m) => {
    if (!m.training) return [];
    const p = trainingProgress(m.training);
    return p.state === 'partial' ? [unfinishedPhrase(m.arch, p, m.training)] : [];
  });
  if (partial.length) {
    blocks.push({
      kind: 'paragraph',
      text:
        `${partial.join(', ')} ` +
        `${partial.length > 1 ? 'are' : 'is'} only partly trained, so ${partial.length > 1 ? 'their' : 'its'} ` +
        'confusions describe an unfinished model more than the data.',
    });
  }
  const valSplit = d.data.splits.find((s) => s.split === 'validation');
  const testSplit = d.data.splits.find((s) => s.split === 'test');
  const shares = (s: typeof valSplit) =>
    s ? d.data.classes.map((c, i) => `${c} ${pct(s.perClass[i] / s.n)}`).join(', ') : '';
  blocks.push({
    kind: 'paragraph',
    text:
      'Part of the confusion is in the labels, not the models: FER2013 was gathered by web image search on ' +
      'emotion keywords, and its authors report human accuracy of about 65±5% on it (Goodfellow et al. 2013); ' +
      `fer4 alone has ${d.data.conflictingLabelGroups} sets of identical images that carry different labels. No model ` +
      'should be expected near 100%, and the confusions between subtle classes partly reflect labels that people ' +
      'would disagree on too.' +
      (valSplit && testSplit
        ? ` The class mix also differs between splits (validation: ${shares(valSplit)}; test: ${shares(testSplit)}), ` +
          'so per-class precision moves between them even when recall does not.'
        : ''),
  });
  return blocks;
}

/** How the status line names a shipped model whose training has not run its course (undefined when it has). */
export function unfinishedPhrase(arch: Arch, p: TrainingProgress, t: TrainingRecord): string | undefined {
  if (p.state === 'partial') return `${arch} (${p.epochs} of ${p.budget} epochs)`;
  if (p.state === 'swa-pending') return `${arch} (${p.epochs} epochs, ${p.swaEpochs} SWA epochs planned)`;
  if (p.state === 'swa-partial') {
    const notBetterThan = swaNotBetterThan(t);
    return `${arch} (${p.swaDone} of ${p.swaEpochs} SWA epochs${notBetterThan === undefined ? '' : `, none better than epoch ${notBetterThan}`})`;
  }
  return undefined;
}

export function reportBlocks(d: ReportData): Block[] {
  const ship = shipped(d);
  const missing = d.models.filter((m) => m.status !== 'shipped').map((m) => m.arch);
  // Each shipped model's training progress, computed once, as the phrase the status line lists it by.
  const unfinished = new Map<TrainingProgress['state'], string[]>();
  for (const m of ship) {
    if (!m.training) continue;
    const p = trainingProgress(m.training);
    const phrase = unfinishedPhrase(m.arch, p, m.training);
    if (phrase) unfinished.set(p.state, [...(unfinished.get(p.state) ?? []), phrase]);
  }
  const listed = (state: TrainingProgress['state'], lead: string) => {
    const phrases = unfinished.get(state);
    return phrases ? `${lead}: ${phrases.join(', ')}.` : '';
  };
  const status = [
    ship.length ? `Shipped: ${ship.map((m) => m.arch).join(', ')}.` : 'No model is shipped yet.',
    listed('partial', 'Partly trained'),
    listed(
      'swa-pending',
      'Trained to the end of the learning-rate schedule, weight averaging (SWA) not run yet',
    ),
    listed(
      'swa-partial',
      'Trained to the end of the learning-rate schedule, weight averaging (SWA) stopped before its planned end',
    ),
    missing.length
      ? `Not shipped yet: ${missing.join(', ')} (\`npm run fer -- train --arch <arch>\`, then \`npm run fer -- ship --arch <arch>\`).`
      : '',
    d.ensemble ? '' : 'The ensemble is not fitted yet (`npm run fer -- ensemble`).',
  ]
    .filter(Boolean)
    .join(' ');
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: 'Affect models: report' },
    {
      kind: 'paragraph',
      text:
        `Generated ${d.generatedAt} by \`npm run fer -- report\` from \`models/*/metrics.json\`, \`training.json\` ` +
        'and `ensemble.json`, with inference timed on this machine. Do not edit by hand; rerun the command.',
    },
    { kind: 'paragraph', text: status },
    { kind: 'heading', level: 2, text: 'Summary' },
    ...summaryBlocks(d),
    { kind: 'heading', level: 2, text: 'Targets' },
    ...targetsBlocks(d),
    { kind: 'heading', level: 2, text: 'Data' },
    ...dataBlocks(d),
    { kind: 'heading', level: 2, text: 'Per-class metrics' },
    { kind: 'heading', level: 3, text: 'Test' },
    ...perClassBlocks(d, 'test'),
    { kind: 'heading', level: 3, text: 'Validation' },
    ...perClassBlocks(d, 'validation'),
    { kind: 'heading', level: 2, text: 'Confusion matrices' },
  ];
  for (const split of ['test', 'validation'] as const) {
    for (const { name, r } of evaluated(d, split)) blocks.push(confusionFigure(name, r, d));
  }
  if (ship.length === 0 && !d.ensemble?.test)
    blocks.push({ kind: 'paragraph', text: 'No shipped model yet.' });
  blocks.push({ kind: 'heading', level: 2, text: 'Training curves' });
  const trained = ship.filter((m) => m.training);
  for (const m of trained) blocks.push(curvesFigure(m.arch, m.training!));
  if (trained.length === 0)
    blocks.push({ kind: 'paragraph', text: 'No training record (training.json) yet.' });
  blocks.push({ kind: 'heading', level: 2, text: 'Ensemble' }, ...ensembleBlocks(d));
  blocks.push(
    { kind: 'heading', level: 2, text: 'Which classes get confused, and why' },
    ...discussionBlocks(d),
  );
  blocks.push({ kind: 'heading', level: 2, text: 'Model cards' });
  blocks.push({
    kind: 'list',
    items: d.models.map((m) =>
      m.status === 'shipped'
        ? `[${m.arch}](${m.arch}/README.md): ${archTitle(m.arch, m.training?.recipe.width, m.training?.recipe.view)}`
        : `${m.arch}: ${archTitle(m.arch)} (not shipped yet)`,
    ),
  });
  return blocks;
}

// ---- models/<arch>/README.md -------------------------------------------------------------------

export function augmentationText(erase: number | undefined): string {
  const r = DEFAULT_AUGMENT_RANGES;
  return (
    `rotation ±${r.rotationDeg}°, horizontal flip with probability ${r.flipProbability}, zoom ${r.zoom[0]}–${r.zoom[1]}, ` +
    `shift ±${r.translate * 100}% of the side, brightness ±${r.brightness}, contrast ×${r.contrast[0]}–${r.contrast[1]}` +
    (erase
      ? `; random erasing with probability ${erase} (one rectangle of ${r.eraseArea[0] * 100}–${r.eraseArea[1] * 100}% ` +
        `of the image, height/width ${r.eraseAspect[0]}–${r.eraseAspect[1]}, a random grey)`
      : '')
  );
}

/**
 * Epochs (1-based) whose learning rate is above the previous epoch's after warm-up: where a
 * run was resumed with a new budget and its cosine schedule started over.
 */
export function scheduleRestarts(t: Pick<TrainingRecord, 'history' | 'recipe'>): number[] {
  const h = t.history;
  const out: number[] = [];
  for (let i = 1; i < h.length; i++) {
    // SWA epochs run at their own constant rate after the schedule: not a restart.
    if (h[i].swa === undefined && h[i].epoch > t.recipe.warmupEpochs + 1 && h[i].lr > h[i - 1].lr * 1.001)
      out.push(h[i].epoch);
  }
  return out;
}

/**
 * The `fer train` commands of every stage, oldest first, each into its own run folder
 * (runs/<arch>, then runs/<arch>-stage2, ...), each later stage starting from the folder before
 * it: its best/ epoch, or its checkpoint/ where the recorded --init was a checkpoint.
 */
export function reproduceTrainLines(arch: Arch, t: TrainingRecord): { lines: string[]; lastOut: string } {
  const chain = trainingChain(t);
  const outOf = (i: number) => (i === 0 ? `runs/${arch}` : `runs/${arch}-stage${i + 1}`);
  const lines = chain.map((s, i) => {
    const recipe =
      i === 0 || s.recipe.init === undefined
        ? s.recipe
        : {
            ...s.recipe,
            init: `${outOf(i - 1)}/${/(^|\/)checkpoint(\/model\.json)?\/?$/.test(s.recipe.init) ? 'checkpoint' : 'best'}/model.json`,
          };
    return trainCommandLine(arch, recipe) + (chain.length > 1 ? ` --out ${outOf(i)}` : '');
  });
  return { lines, lastOut: outOf(chain.length - 1) };
}

/** The `fer train` command line that reproduces a recipe (flags only where it differs from the defaults). */
export function trainCommandLine(arch: Arch, recipe: TrainingRecord['recipe']): string {
  const flags = [`--arch ${arch}`, `--epochs ${recipe.epochs}`];
  const differs = <K extends keyof typeof DEFAULT_CONFIG>(k: K) =>
    recipe[k] !== undefined && recipe[k] !== DEFAULT_CONFIG[k];
  if (differs('batch')) flags.push(`--batch ${recipe.batch}`);
  if (differs('lr')) flags.push(`--lr ${recipe.lr}`);
  if (differs('weightDecay')) flags.push(`--weight-decay ${recipe.weightDecay}`);
  if (differs('labelSmoothing')) flags.push(`--label-smoothing ${recipe.labelSmoothing}`);
  if (differs('classWeights')) flags.push(`--class-weights ${recipe.classWeights}`);
  if (recipe.augment === false) flags.push('--no-augment');
  if (recipe.erase) flags.push(`--erase ${recipe.erase}`);
  if (differs('patience')) flags.push(`--patience ${recipe.patience}`);
  if (differs('seed')) flags.push(`--seed ${recipe.seed}`);
  if (differs('backend')) flags.push(`--backend ${recipe.backend}`);
  if (recipe.workers !== undefined) flags.push(`--workers ${recipe.workers}`);
  if (recipe.limitPerClass !== undefined) flags.push(`--limit-per-class ${recipe.limitPerClass}`);
  if (recipe.valLimit !== undefined) flags.push(`--val-limit ${recipe.valLimit}`);
  if (recipe.init !== undefined) flags.push(`--init ${recipe.init}`);
  if (differs('freeze')) flags.push(`--freeze ${recipe.freeze}`);
  if (recipe.width !== undefined) flags.push(`--width ${recipe.width}`);
  if (recipe.view !== undefined && recipe.view !== 'pixels') flags.push(`--view ${recipe.view}`);
  // Runs from before precise BN existed have no bnImages: they validated on running averages.
  if ((recipe.bnImages ?? 0) !== DEFAULT_CONFIG.bnImages) flags.push(`--bn-images ${recipe.bnImages ?? 0}`);
  if (recipe.swaEpochs) {
    flags.push(`--swa ${recipe.swaEpochs}`);
    if (recipe.swaLr !== undefined && recipe.swaLr !== swaLearningRate({ lr: recipe.lr }))
      flags.push(`--swa-lr ${recipe.swaLr}`);
  }
  return `npm run fer -- train ${flags.join(' ')}`;
}

/** The `fer ship` line that ships a model as it is: from its run folder, and from swa/ where that shipped. */
export function shipCommandLine(arch: Arch, runDir: string, t?: Pick<TrainingRecord, 'shippedFrom'>): string {
  return (
    `npm run fer -- ship --arch ${arch}` +
    (runDir !== `runs/${arch}` ? ` --run ${runDir}` : '') +
    (t?.shippedFrom === 'swa' ? ' --from swa' : '')
  );
}

export function recipeRows(t: TrainingRecord): string[][] {
  const r = t.recipe;
  const rows = [
    [
      'Optimiser',
      `Adam, peak learning rate ${r.lr}, batch ${r.batch} split over ${r.workers} worker thread(s) on ${r.backend}`,
    ],
    [
      'Schedule',
      `${r.warmupEpochs} warm-up epoch(s), then cosine decay to ${r.lrFloor}× the peak at epoch ${r.epochs} (the budget)` +
        (r.swaEpochs
          ? `, then ${r.swaEpochs} epochs of weight averaging (SWA) at a constant ${swaLearningRate(r)}`
          : ''),
    ],
    [
      'Regularisation',
      `decoupled weight decay ${r.weightDecay}, label smoothing ${r.labelSmoothing}, dropout in the model`,
    ],
    ['Class weights', r.classWeights === 'balanced' ? 'balanced (inverse class frequency)' : 'none'],
    ['Augmentation', r.augment ? augmentationText(r.erase) : 'none'],
    [
      'Early stopping',
      `on validation macro-F1, patience ${r.patience} epochs; ` +
        (t.shippedFrom === 'swa'
          ? 'shipped: the latest SWA average (`fer ship --from swa`), not the best epoch (no early stop in the SWA epochs)'
          : 'the best epoch is the one shipped' +
            (r.swaEpochs ? ' (in the SWA epochs: the best average, and no early stop)' : '')),
    ],
    [
      'Batch-norm statistics',
      r.bnImages
        ? `re-estimated before each validation on ${int(r.bnImages)} training images (precise BN)`
        : 'running averages (momentum 0.99)',
    ],
    ['Seed', String(r.seed)],
  ];
  if (r.limitPerClass) rows.push(['Train subset', `at most ${r.limitPerClass} images per class`]);
  if (r.valLimit) rows.push(['Validation subset', `at most ${r.valLimit} images`]);
  if (r.init) {
    const o = t.initFrom;
    // A checkpoint holds the training weights even in an SWA epoch; best/, swa/ and a shipped
    // model hold the average there.
    const fromCheckpoint = /(^|\/)checkpoint(\/model\.json)?\/?$/.test(o?.path ?? '');
    const origin = o
      ? `: ${fromCheckpoint ? `epoch ${o.epochs}` : bestEpochText({ history: o.history, bestEpoch: o.epochs })} of a run trained with \`${trainCommandLine(o.recipe.arch, o.recipe)}\`` +
        `${o.initFrom ? ' (itself started from earlier weights)' : ''}, ${formatDuration(o.trainSeconds)}`
      : '';
    rows.push([
      'Initial weights',
      `${r.init}${origin}${r.freeze ? `; first ${r.freeze} layers frozen` : ''}`,
    ]);
  }
  return rows;
}

/** What the SWA epochs of each stage did, against the best epoch before them. */
export function swaBlocks(t: TrainingRecord): Block[] {
  const chain = trainingChain(t);
  const blocks: Block[] = [];
  let offset = 0;
  for (const [i, s] of chain.entries()) {
    const swa = s.history.filter((h) => h.swa !== undefined);
    const { bestBefore, bestSwa } = bestBeforeAndDuringSwa(s.history);
    if (bestSwa) {
      const lr = swaLearningRate(s.recipe);
      const stage = chain.length > 1 ? `Stage ${i + 1}'s epochs` : 'Epochs';
      blocks.push({
        kind: 'paragraph',
        text:
          `${stage} ${swa[0].epoch + offset}–${swa[swa.length - 1].epoch + offset} are stochastic weight averaging ` +
          `(\`--swa ${s.recipe.swaEpochs}\`): training went on at a constant learning rate of ${lr} and the weights ` +
          'after each of these epochs were averaged; their validation points score that running average, with ' +
          'batch-norm statistics re-estimated for it. ' +
          `Validation macro-F1 of the average: ${swa.map((h) => f3(h.valMacroF1)).join(', ')}; ` +
          (bestBefore
            ? `the best epoch before averaging had ${f3(bestBefore.valMacroF1)} (epoch ${bestBefore.epoch + offset}), ` +
              `so the best average (${f3(bestSwa.valMacroF1)}, ${bestSwa.swa} epochs) is ` +
              `${bestSwa.valMacroF1 > bestBefore.valMacroF1 ? `${f3(bestSwa.valMacroF1 - bestBefore.valMacroF1)} better` : 'no better'}.`
            : `best ${f3(bestSwa.valMacroF1)}.`),
      });
    }
    offset += s.epochs;
  }
  return blocks;
}

/** "a", "a and b", "a, b and c" (or "then" for steps in order). */
export function listText(items: string[], last: 'and' | 'then' = 'and'): string {
  if (items.length < 2) return items.join('');
  return `${items.slice(0, -1).join(', ')}${last === 'then' ? ', then' : ' and'} ${items[items.length - 1]}`;
}

/** Where a stage's learning rate rose again because it was resumed with a larger budget. */
export function restartBlocks(t: TrainingRecord): Block[] {
  const chain = trainingChain(t);
  const blocks: Block[] = [];
  let offset = 0;
  for (const [i, s] of chain.entries()) {
    const restarts = scheduleRestarts(s);
    const budget = s.recipe.epochs;
    const swaFlag = s.recipe.swaEpochs ? ` --swa ${s.recipe.swaEpochs}` : '';
    if (restarts.length) {
      const staged = chain.length > 1;
      const stage = staged
        ? `In stage ${i + 1} (epochs ${offset + 1}–${offset + s.epochs} above) the`
        : 'The';
      // Each restart was a resume with a larger budget; the budget before it is taken to be the
      // epoch before the restart (the run had reached its budget), the last one is the recipe's.
      const epochs = restarts.map((e) => e + offset);
      const resumes = [
        ...restarts.slice(1).map((e) => `\`--resume --epochs ${e - 1}\``),
        `\`--resume --epochs ${budget}${swaFlag}\``,
      ];
      blocks.push({
        kind: 'paragraph',
        text:
          `${stage} learning rate rises again at ${epochs.length > 1 ? 'epochs' : 'epoch'} ${listText(epochs.map(String))}: ` +
          `the run was resumed there with a larger epoch budget (the last time \`--resume --epochs ${budget}\`), so its ` +
          `cosine schedule restarted (a warm restart). The command below runs one cosine over ${budget} epochs instead; ` +
          `to repeat this ${staged ? 'stage' : 'run'}, train with \`--epochs ${restarts[0] - 1}\`` +
          `${swaFlag ? ' (no `--swa`)' : ''} first${staged && offset > 0 ? ' (counting its own epochs)' : ''}, ` +
          `then resume with ${listText(resumes, 'then')}.`,
      });
    }
    offset += s.epochs;
  }
  return blocks;
}

export function modelCardBlocks(d: ReportData, arch: Arch): Block[] {
  const m = d.models.find((x) => x.arch === arch);
  if (!m?.metrics) throw new Error(`modelCardBlocks: ${arch} is not shipped`);
  const { test, validation } = m.metrics;
  const t = m.training;
  const whole = t ? wholeTraining(t) : undefined;
  const progress = t ? trainingProgress(t) : undefined;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: `${arch}: ${archTitle(arch, t?.recipe.width, t?.recipe.view)}` },
    {
      kind: 'paragraph',
      text:
        `A facial-expression classifier for 48×48 gray face crops: ${test.classes.join(', ')}. Part of Affect; ` +
        `generated ${d.generatedAt} by \`npm run fer -- report\` from this folder's \`metrics.json\` and ` +
        '`training.json` (do not edit by hand). All models side by side: [REPORT.md](../REPORT.md).',
    },
  ];
  if (progress?.state === 'partial') {
    blocks.push({
      kind: 'paragraph',
      text:
        (t!.initFrom
          ? `**Work in progress: these weights come from epoch ${whole!.bestEpoch} (counted across the stages), ` +
            `${bestEpochText(t!)} of a fine-tune that has trained ${progress.epochs} of its ${progress.budget} epochs.** `
          : `**Work in progress: these weights come from ${bestEpochText(t!)} of a run that has trained ${progress.epochs} of ` +
            `its ${progress.budget} epochs.** `) +
        'The numbers below describe this checkpoint, not the finished model.',
    });
  }
  blocks.push(
    { kind: 'heading', level: 2, text: 'Summary' },
    {
      kind: 'table',
      head: ['', ''],
      rows: [
        [
          'Test accuracy',
          `${pct(test.accuracy)} ± ${accuracyStandardError(test.accuracy, test.n).toFixed(1)} points (1 s.e.), n = ${test.n}`,
        ],
        ['Test macro-F1', f3(test.macroF1)],
        ['Validation accuracy', `${pct(validation.accuracy)}, n = ${int(validation.n)}`],
        ['Validation macro-F1', f3(validation.macroF1)],
        ['Parameters', m.cost ? int(m.cost.params) : '–'],
        [
          'FLOPs per face',
          m.cost ? `${mflops(m.cost.macs)} (${int(m.cost.macs)} multiply-accumulates)` : '–',
        ],
        [
          'Weights',
          `${m.metrics.float16 ? 'float16' : 'float32'}${m.cost ? `, ${mib(m.cost.weightBytes)}` : ''}`,
        ],
        [
          'Training',
          whole ? `${formatDuration(whole.trainSeconds)}; ${progressNote(t)}` : 'no training.json',
        ],
        ['wasm ms per face', `${timingCell(d, 'wasm', arch)} (batch ${d.batches.join(' / ')})`],
        ['webgpu ms per face', `${timingCell(d, 'webgpu', arch)} (batch ${d.batches.join(' / ')})`],
      ],
    },
    { kind: 'heading', level: 2, text: 'Target' },
    ...targetsBlocks(d, arch),
    { kind: 'heading', level: 2, text: 'Data' },
    ...dataBlocks(d),
    { kind: 'heading', level: 2, text: 'Architecture' },
    { kind: 'paragraph', text: archDescription(arch, t?.recipe.width, t?.recipe.view) },
  );
  if (m.cost) {
    const l = m.cost.layers;
    blocks.push({
      kind: 'paragraph',
      text:
        `Input \`[batch, 48, 48, 1]\` floats in [0, 1]; output \`[batch, ${test.classes.length}]\` softmax probabilities. ` +
        `${int(m.cost.params)} parameters in ${l.total} layers: ${l.conv} convolutions` +
        (l.depthwise ? `, ${l.depthwise} depthwise convolutions` : '') +
        `, ${l.dense} dense layers and ${l.batchNorm} batch normalisations. ${mflops(m.cost.macs)} FLOPs per face ` +
        '(two per multiply-accumulate of convolution and dense layers).',
    });
  }
  blocks.push(
    {
      kind: 'paragraph',
      text:
        `Weights are stored as ${m.metrics.float16 ? 'float16 (half the download)' : 'float32'}: \`fer ship\` keeps ` +
        `float16 when it loses at most ${FLOAT16_TOLERANCE_POINTS} accuracy points on validation and test. float32 ` +
        `scored ${pct(m.metrics.float32.test)} on test and ${pct(m.metrics.float32.validation)} on validation; the shipped ` +
        `weights score ${pct(test.accuracy)} and ${pct(validation.accuracy)}.`,
    },
    { kind: 'heading', level: 2, text: 'Training' },
  );
  if (t) {
    blocks.push(
      { kind: 'table', head: ['Recipe', ''], rows: recipeRows(t) },
      {
        kind: 'paragraph',
        text:
          `Trained for ${formatDuration(whole!.trainSeconds)} of wall-clock time, validation included, on a 2-core CPU ` +
          `(${t.recipe.workers} ${t.recipe.backend} worker thread(s)); ${progressNote(t)}.`,
      },
      curvesFigure(arch, t),
    );
    blocks.push(...restartBlocks(t), ...swaBlocks(t));
  } else {
    blocks.push({
      kind: 'paragraph',
      text: 'No training.json: ship the model again with `fer ship` to record its recipe.',
    });
  }
  if (m.notes) {
    blocks.push(
      { kind: 'heading', level: 2, text: 'Notes on this run' },
      ...m.notes
        .split(/\n\s*\n/)
        .map((p): Block => ({ kind: 'paragraph', text: p.replace(/\s*\n\s*/g, ' ') })),
    );
  }
  blocks.push(
    { kind: 'heading', level: 2, text: 'Metrics' },
    { kind: 'paragraph', text: `Test: ${evaluatedOf(d, test)}. Validation: ${evaluatedOf(d, validation)}.` },
    {
      kind: 'table',
      head: ['Split', 'Class', 'Precision', 'Recall', 'F1', 'Support'],
      rows: [...perClassRows('test', test), ...perClassRows('validation', validation)],
      align: PER_CLASS_ALIGN,
    },
    confusionFigure(arch, test, d),
    confusionFigure(arch, validation, d),
  );
  const top = topConfusions(validation, 3);
  if (top.length) {
    blocks.push({
      kind: 'paragraph',
      text: `Most confused on validation: ${top.map((c) => `${c.truth} → ${c.predicted} (${int(c.count)}, ${pct(c.rate)} of ${c.truth})`).join('; ')}. See the discussion in [REPORT.md](../REPORT.md).`,
    });
  }
  const se = accuracyStandardError(test.accuracy, test.n);
  const reproduce = t
    ? reproduceTrainLines(arch, t)
    : { lines: [`npm run fer -- train --arch ${arch}`], lastOut: `runs/${arch}` };
  blocks.push(
    { kind: 'heading', level: 2, text: 'Known limits' },
    {
      kind: 'list',
      items: [
        "**Input**: one 48×48 gray face, cropped and roughly centred like FER2013's. Other crops, colour, profile views, " +
          'occlusions or low light are untested here.',
        `**Classes**: only ${test.classes.join(', ')}. Angry, disgusted or fearful faces are forced into one of these.`,
        '**Data biases**: FER2013 faces come from web image searches; who is in them (age, gender, skin tone, culture) ' +
          'is not documented, and accuracy across groups has not been measured.',
        `**Label noise**: human accuracy on FER2013 is about 65±5% (Goodfellow et al. 2013), and fer4 has ` +
          `${d.data.conflictingLabelGroups} groups of identical images with different labels.`,
        `**Small test set**: ${test.n} images, so test accuracy is uncertain by about ±${se.toFixed(1)} points (one ` +
          `standard error; ±${(1.96 * se).toFixed(1)} for 95%). Validation (${int(validation.n)} images) is steadier but ` +
          'was used to pick the epoch.',
        '**Not for high-stakes use**: a facial expression is not a felt emotion, and these scores do not support ' +
          'decisions about people (hiring, policing, health, education, credit).',
      ],
    },
    { kind: 'heading', level: 2, text: 'Reproduce' },
    {
      kind: 'code',
      text: [
        ...reproduce.lines,
        shipCommandLine(arch, reproduce.lastOut, t),
        `npm run fer -- eval --split test --model ${arch}`,
        'npm run fer -- report',
      ].join('\n'),
    },
    {
      kind: 'paragraph',
      text:
        '`fer train` writes `runs/<arch>` (resume an interrupted run with `--resume`); `fer ship` copies its ' +
        (t?.shippedFrom === 'swa' ? 'latest SWA average (`--from swa`)' : 'best epoch') +
        ' here with `metrics.json` and `training.json`. The seed fixes initialisation, data order and augmentation.',
    },
  );
  return blocks;
}

/** Every figure in a list of blocks, once per file name. */
export function figuresOf(blocks: readonly Block[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of blocks) if (b.kind === 'figure') out.set(b.file, b.svg);
  return out;
}
