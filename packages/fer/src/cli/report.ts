// fer report: models/REPORT.md, models/report.html and the model cards, from what fer ship
// and fer ensemble wrote, with each model's size and speed measured here.
import { join, relative, resolve } from 'node:path';
import { DEFAULT_MODELS_DIR } from '../models/registry.ts';
import { ModelFileError } from '../models/io.ts';
import { DataError } from '../data/errors.ts';
import { FIGURES_DIR, generateReport } from '../report/report.ts';
import type { ReportData } from '../report/build.ts';
import { numberFlag, parseCommandArgs } from './args.ts';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

const DEFAULT_RUNS = 10;
const DEFAULT_GPU_RUNS = 3;

/** Relative to the working directory when under it, else absolute. */
const shown = (path: string) => {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') ? r : path;
};

const HELP = `usage: fer report [options]

Writes models/REPORT.md and models/report.html (summary, per-class metrics, confusion
matrices, training curves, ensemble, discussion), the charts as models/report/*.svg, and
models/<arch>/README.md (the model card) for every shipped model. Reads metrics.json and
training.json (from fer ship) and ensemble.json (from fer ensemble); times inference on real
test images with tfjs wasm and webgpu, and evaluates the ensemble on test and validation.

  --data <dir>         fer4-format data folder (default ../shared/data/fer4)
  --models-dir <dir>   where the shipped models live (default models/)
  --runs <n>           timed runs per model and batch size on wasm (default ${DEFAULT_RUNS})
  --gpu-runs <n>       timed runs on webgpu (default ${DEFAULT_GPU_RUNS}; a software adapter is slow)
  --no-webgpu          skip the webgpu timing`;

const pct = (x: number | undefined) => (x === undefined ? '     –' : `${(100 * x).toFixed(1).padStart(5)}%`);
const msText = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));

/** One line per model and the ensemble: what the report's summary table says. */
export function summaryLines(d: ReportData): string[] {
  const times = (name: string) =>
    d.timings
      .map((t) =>
        t.skipped
          ? `${t.backend} –`
          : `${t.backend} ${d.batches.map((b) => msText(t.msPerFace[name]?.[b])).join('/')}`,
      )
      .join('  ');
  const lines = [
    `${'model'.padEnd(13)}${'test acc'.padStart(9)}${'val F1'.padStart(8)}${'params'.padStart(11)}${'MFLOPs'.padStart(9)}  ms/face (batch ${d.batches.join('/')})`,
  ];
  for (const m of d.models) {
    if (m.status === 'missing') {
      lines.push(`${m.arch.padEnd(13)}not shipped yet`);
      continue;
    }
    lines.push(
      `${m.arch.padEnd(13)}${pct(m.metrics?.test.accuracy).padStart(9)}${(m.metrics?.validation.macroF1.toFixed(3) ?? '–').padStart(8)}` +
        `${(m.cost ? m.cost.params.toLocaleString('en-US') : '–').padStart(11)}${(m.cost ? ((2 * m.cost.macs) / 1e6).toFixed(1) : '–').padStart(9)}  ${times(m.arch)}`,
    );
  }
  const e = d.ensemble;
  if (!e) lines.push(`${'ensemble'.padEnd(13)}not fitted yet`);
  else if (e.problem) lines.push(`${'ensemble'.padEnd(13)}not evaluated: ${e.problem}`);
  else
    lines.push(
      `${'ensemble'.padEnd(13)}${pct(e.test?.accuracy).padStart(9)}${(e.validation?.macroF1.toFixed(3) ?? '–').padStart(8)}${''.padStart(20)}  ${times('ensemble')}`,
    );
  for (const t of d.timings)
    lines.push(t.skipped ? `${t.backend}: not measured (${t.skipped})` : `${t.backend}: ${t.device}`);
  return lines;
}

export const reportCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      {
        data: { type: 'string' },
        'models-dir': { type: 'string' },
        runs: { type: 'string' },
        'gpu-runs': { type: 'string' },
        'no-webgpu': { type: 'boolean' },
      },
      HELP,
    );
    if (!values) return 0;
    const modelsDir = values['models-dir'] ? resolve(values['models-dir']) : DEFAULT_MODELS_DIR;
    const options = {
      dataDir: resolve(values.data ?? '../shared/data/fer4'),
      modelsDir,
      runs: numberFlag(values.runs, 'runs', 'count') ?? DEFAULT_RUNS,
      gpuRuns: numberFlag(values['gpu-runs'], 'gpu-runs', 'count') ?? DEFAULT_GPU_RUNS,
      webgpu: !values['no-webgpu'],
      log: (line: string) => console.error(line),
    };
    let result;
    try {
      result = await generateReport(options);
    } catch (err) {
      if (err instanceof DataError || err instanceof ModelFileError)
        throw new CliError(err.message, err.code, 1);
      throw err;
    }
    const { data, files } = result;
    console.log(summaryLines(data).join('\n'));
    const svgs = files.filter((f) => f.endsWith('.svg')).length;
    const others = files.filter((f) => !f.endsWith('.svg')).map(shown);
    console.log(`wrote ${others.join(', ')} and ${svgs} charts in ${shown(join(modelsDir, FIGURES_DIR))}/`);
    return 0;
  },
};
