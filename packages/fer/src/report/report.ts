// `fer report`'s engine: read what `fer ship` and `fer ensemble` left in models/, measure
// each model's size and speed (wasm, then webgpu), evaluate the ensemble, and write
// models/REPORT.md, models/report.html, models/report/*.svg and models/<arch>/README.md.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createGpu, createTfWebgpuBackend, formatAdapter, type Tf, type TfWebgpuBackend } from '@affect/gpu';
import * as tf from '../tfjs/tf.ts';
import { IMAGE_BYTES, getSplit } from '../data/format.ts';
import { readDataset } from '../data/reader.ts';
import { DEFAULT_MODELS_DIR, loadModelFrom, type LoadedModel } from '../models/registry.ts';
import { ensembleProbs, evaluate, type EvalReport } from '../eval/evaluate.ts';
import { predictProbs, useCpuBackend } from '../eval/predict.ts';
import {
  modelCost,
  readEnsembleFile,
  readModelRecords,
  summarizeData,
  type EnsembleFile,
  type ModelRecord,
} from './collect.ts';
import { msPerFace, type TimingPlan } from './timing.ts';
import {
  figuresOf,
  modelCardBlocks,
  reportBlocks,
  shipped,
  type BackendTimings,
  type EnsembleResult,
  type ModelEntry,
  type ReportData,
} from './build.ts';
import { renderHtml, renderMarkdown, type Block } from './doc.ts';

export const REPORT_MD = 'REPORT.md';
export const REPORT_HTML = 'report.html';
export const FIGURES_DIR = 'report';
export const MODEL_CARD = 'README.md';

export interface ReportOptions {
  dataDir: string;
  modelsDir?: string;
  /** Timed runs per model and batch size on wasm (after warm-up). */
  runs: number;
  /** Timed runs on webgpu: fewer, since the adapter may be a software one. */
  gpuRuns: number;
  /** Time on webgpu too. */
  webgpu: boolean;
  /** Batch sizes to time. */
  batches?: number[];
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

export interface ReportResult {
  data: ReportData;
  /** Every file written, absolute. */
  files: string[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

interface Timed {
  msPerFace: Record<string, Record<number, number>>;
  errors: Record<string, string>;
}

/** What is timed on each backend, and where its progress lines go. */
interface TimingJob {
  models: readonly ModelRecord[];
  ensemble: EnsembleFile | undefined;
  modelsDir: string;
  images: Uint8Array;
  batches: readonly number[];
  log: (line: string) => void;
}

/** Times every model present (and the ensemble) on the active tfjs backend. */
async function timeAll(
  { models, ensemble, modelsDir, images, batches, log }: TimingJob,
  plan: TimingPlan,
): Promise<Timed> {
  const out: Timed = { msPerFace: {}, errors: {} };
  const measure = async (name: string, predict: (px: Uint8Array) => Promise<unknown>) => {
    out.msPerFace[name] = {};
    for (const b of batches) {
      out.msPerFace[name][b] = await msPerFace(predict, images, b, plan);
      log(`  ${name} batch ${b}: ${out.msPerFace[name][b].toFixed(2)} ms/face`);
    }
  };
  for (const m of models) {
    if (m.status === 'missing') continue;
    let loaded: LoadedModel | undefined;
    try {
      loaded = await loadModelFrom(m.arch, modelsDir);
      const model = loaded.model;
      await measure(m.arch, (px) => predictProbs(model, px));
    } catch (err) {
      out.errors[m.arch] = message(err);
      delete out.msPerFace[m.arch];
      log(`  ${m.arch}: ${out.errors[m.arch]}`);
    } finally {
      loaded?.model.dispose();
    }
  }
  if (ensemble) {
    const members: LoadedModel[] = [];
    try {
      for (const a of ensemble.members) members.push(await loadModelFrom(a, modelsDir));
      await measure('ensemble', (px) => ensembleProbs(members, ensemble.weights, px, ensemble.tta));
    } catch (err) {
      out.errors.ensemble = message(err);
      delete out.msPerFace.ensemble;
    } finally {
      for (const m of members) m.model.dispose();
    }
  }
  return out;
}

/**
 * The report's timings alone, wasm then webgpu, of every model in `modelsDir` and its
 * ensemble on `images` (48x48 uint8, at least the largest batch): for a machine with a real
 * GPU (bench/gpu-check.ts), where the report itself is not made.
 */
export async function timeShippedModels(
  modelsDir: string,
  images: Uint8Array,
  batches: readonly number[],
  runs: { wasm: number; webgpu: number },
  log: (line: string) => void = () => {},
): Promise<BackendTimings[]> {
  const job: TimingJob = {
    models: await readModelRecords(modelsDir),
    ensemble: await readEnsembleFile(modelsDir),
    modelsDir,
    images,
    batches,
    log,
  };
  return [await wasmTimings(job, runs.wasm), await webgpuTimings(job, runs.webgpu)];
}

async function wasmTimings(job: TimingJob, runs: number): Promise<BackendTimings> {
  await useCpuBackend('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  job.log(`timing on wasm (${runs} runs)`);
  const timed = await timeAll(job, { runs, warmup: 2 });
  return {
    backend: 'wasm',
    device: `tfjs-backend-wasm ${tf.version_core}, SIMD ${simd ? 'on' : 'off'}, one thread`,
    label: simd ? 'SIMD' : 'no SIMD',
    runs,
    ...timed,
  };
}

async function webgpuTimings(job: TimingJob, runs: number): Promise<BackendTimings> {
  let ctx;
  try {
    ctx = await createGpu({ onUncapturedError: () => {} });
  } catch (err) {
    return {
      backend: 'webgpu',
      device: 'none',
      label: '',
      skipped: message(err),
      runs,
      msPerFace: {},
      errors: {},
    };
  }
  const adapterName = (ctx.report.description || ctx.report.device || 'unknown adapter').split(':')[0];
  const label = `${adapterName}, ${ctx.report.software ? 'software' : 'hardware'}`;
  const device =
    `${formatAdapter(ctx.report)} through Dawn` +
    (ctx.report.software
      ? ': a CPU implementation of the GPU, so these numbers say nothing about real GPUs'
      : '');
  job.log(`timing on webgpu: ${formatAdapter(ctx.report)} (${runs} runs)`);
  let backend: TfWebgpuBackend | undefined;
  try {
    // Our tfjs module re-exports tfjs-core's functions but not its `default`, which the helper never uses.
    backend = await createTfWebgpuBackend(ctx, tf as unknown as Tf);
    const timed = await timeAll(job, { runs, warmup: 1 });
    return { backend: 'webgpu', device, label, runs, ...timed };
  } catch (err) {
    return { backend: 'webgpu', device, label, skipped: message(err), runs, msPerFace: {}, errors: {} };
  } finally {
    backend?.dispose();
    ctx.destroy();
    await useCpuBackend('wasm');
  }
}

async function evaluateEnsemble(
  file: EnsembleFile,
  dataDir: string,
  modelsDir: string,
  log: (line: string) => void,
): Promise<EnsembleResult> {
  log('evaluating the ensemble on test and validation');
  try {
    const run = (split: string): Promise<EvalReport> =>
      evaluate({ dataDir, split, model: 'ensemble', modelsDir, dedup: true });
    return { file, test: await run('test'), validation: await run('validation') };
  } catch (err) {
    return { file, problem: `${message(err)}; rerun \`npm run fer -- ensemble\`` };
  }
}

/**
 * The models (archs or 'ensemble') on the whole test split, copies of train images kept, as the
 * published notebooks count; a model that fails here is just left out of that column.
 */
async function evaluateWithDuplicates(
  names: readonly string[],
  dataDir: string,
  modelsDir: string,
  log: (line: string) => void,
): Promise<Record<string, EvalReport>> {
  log('evaluating on the whole test split, copies of train images kept');
  const out: Record<string, EvalReport> = {};
  for (const model of names) {
    try {
      out[model] = await evaluate({ dataDir, split: 'test', model, modelsDir, dedup: false });
    } catch (err) {
      log(`  ${model}: ${message(err)}`);
    }
  }
  return out;
}

/** Collects, measures and evaluates everything the report shows; writes nothing. */
export async function collectReportData(o: ReportOptions): Promise<ReportData> {
  const log = o.log ?? (() => {});
  const modelsDir = o.modelsDir ?? DEFAULT_MODELS_DIR;
  const batches = o.batches ?? [1, 32];
  log(`reading ${o.dataDir}`);
  const dataset = await readDataset(o.dataDir);
  // Shown as seen from the repository (the folder holding models/), not as an absolute path.
  const data = { ...summarizeData(dataset), dir: relative(dirname(modelsDir), dataset.dir) || '.' };
  const test = getSplit(dataset, 'test');
  const images = test.pixels.subarray(0, Math.min(test.n, Math.max(...batches)) * IMAGE_BYTES);
  const records = await readModelRecords(modelsDir);
  const ensembleFile = await readEnsembleFile(modelsDir);

  await useCpuBackend('wasm');
  const models: ModelEntry[] = [];
  for (const r of records) {
    if (r.status === 'missing') {
      models.push(r);
      continue;
    }
    let loaded: LoadedModel | undefined;
    try {
      loaded = await loadModelFrom(r.arch, modelsDir);
      models.push({ ...r, cost: await modelCost(loaded.model, r.dir) });
    } catch (err) {
      // Reported again, per backend, by the timing pass; the rest of the report still stands.
      log(`  ${r.arch}: cannot load (${message(err)})`);
      models.push(r);
    } finally {
      loaded?.model.dispose();
    }
  }
  const host = {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    loadAverage: loadavg()[0],
  };
  const job: TimingJob = { models: records, ensemble: ensembleFile, modelsDir, images, batches, log };
  const timings = [await wasmTimings(job, o.runs)];
  const ensemble = ensembleFile ? await evaluateEnsemble(ensembleFile, o.dataDir, modelsDir, log) : undefined;
  const testWithDuplicates = await evaluateWithDuplicates(
    [...models.filter((m) => m.cost).map((m) => m.arch), ...(ensemble?.test ? ['ensemble'] : [])],
    o.dataDir,
    modelsDir,
    log,
  );
  if (o.webgpu) timings.push(await webgpuTimings(job, o.gpuRuns));
  else
    timings.push({
      backend: 'webgpu',
      device: 'none',
      label: '',
      skipped: 'skipped with --no-webgpu',
      runs: 0,
      msPerFace: {},
      errors: {},
    });
  return {
    generatedAt: new Date().toISOString(),
    data,
    models,
    ensemble,
    testWithDuplicates,
    timings,
    batches,
    host,
  };
}

export interface RenderedReport {
  markdown: string;
  html: string;
  figures: Map<string, string>;
  cards: Map<string, string>;
}

/** The report's files as strings, keyed as they are written under the models folder. */
export function renderReport(d: ReportData): RenderedReport {
  const blocks = reportBlocks(d);
  const figures = figuresOf(blocks);
  const cards = new Map<string, string>();
  for (const m of shipped(d)) {
    const card: Block[] = modelCardBlocks(d, m.arch);
    for (const [file, svg] of figuresOf(card)) figures.set(file, svg);
    cards.set(m.arch, renderMarkdown(card, { figureBase: `../${FIGURES_DIR}/` }));
  }
  return {
    markdown: renderMarkdown(blocks, { figureBase: `${FIGURES_DIR}/` }),
    html: renderHtml(blocks, 'Affect models: report'),
    figures,
    cards,
  };
}

export async function writeReport(d: ReportData, modelsDir = DEFAULT_MODELS_DIR): Promise<string[]> {
  const r = renderReport(d);
  const files: string[] = [];
  const put = async (path: string, content: string) => {
    await writeFile(path, content);
    files.push(path);
  };
  const figuresDir = join(modelsDir, FIGURES_DIR);
  await mkdir(figuresDir, { recursive: true });
  // The figures folder is the report's own: drop charts of models that are gone.
  for (const f of await readdir(figuresDir)) if (f.endsWith('.svg')) await rm(join(figuresDir, f));
  for (const [file, svg] of r.figures) await put(join(figuresDir, file), `${svg}\n`);
  await put(join(modelsDir, REPORT_MD), r.markdown);
  await put(join(modelsDir, REPORT_HTML), r.html);
  for (const [arch, card] of r.cards) {
    if (existsSync(join(modelsDir, arch))) await put(join(modelsDir, arch, MODEL_CARD), card);
  }
  return files;
}

export async function generateReport(o: ReportOptions): Promise<ReportResult> {
  const data = await collectReportData(o);
  const files = await writeReport(data, o.modelsDir ?? DEFAULT_MODELS_DIR);
  return { data, files };
}
