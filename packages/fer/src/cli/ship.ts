// fer ship: put a run's best model into models/<arch>/ with its metrics.
import { resolve } from 'node:path';
import { ARCHS, isArch } from '../models/architectures.ts';
import { shipModel, FLOAT16_TOLERANCE_POINTS } from '../models/ship.ts';
import { parseCommandArgs } from './args.ts';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

const HELP = `usage: fer ship --arch <${ARCHS.join('|')}> [--run runs/<arch>] [--data <dir>] [--models-dir models]

Copies <run>/best into models/<arch>/ (model.json, weights.bin) with metrics.json (test and
validation, deduplicated against train) and training.json (recipe and per-epoch history).
The weights are stored as float16 when that loses at most ${FLOAT16_TOLERANCE_POINTS} accuracy points.`;

export const shipCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      {
        arch: { type: 'string' },
        run: { type: 'string' },
        data: { type: 'string' },
        'models-dir': { type: 'string' },
      },
      HELP,
    );
    if (!values) return 0;
    if (!values.arch || !isArch(values.arch))
      throw new CliError(`--arch must be one of ${ARCHS.join(', ')}\n\n${HELP}`);
    const m = await shipModel({
      arch: values.arch,
      runDir: resolve(values.run ?? `runs/${values.arch}`),
      dataDir: resolve(values.data ?? '../shared/data/fer4'),
      modelsDir: values['models-dir'] ? resolve(values['models-dir']) : undefined,
    });
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `shipped ${m.arch} (${m.float16 ? 'float16' : 'float32'} weights): ` +
        `test ${pct(m.test.accuracy)} (n=${m.test.n}), validation ${pct(m.validation.accuracy)} macro-F1 ${m.validation.macroF1.toFixed(3)} (n=${m.validation.n}); ` +
        `float32 was test ${pct(m.float32.test)}, validation ${pct(m.float32.validation)}`,
    );
    return 0;
  },
};
