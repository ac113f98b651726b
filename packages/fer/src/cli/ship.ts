// fer ship: put a run's best model (or its SWA average) into models/<arch>/ with its metrics.
import { resolve } from 'node:path';
import { ARCHS } from '../models/architectures.ts';
import { shipModel, FLOAT16_TOLERANCE_POINTS, SHIP_SOURCES } from '../models/ship.ts';
import { choiceFlag, parseCommandArgs, requiredChoice } from './args.ts';
import type { Command } from './main.ts';

const HELP = `usage: fer ship --arch <${ARCHS.join('|')}> [--run runs/<arch>] [--from ${SHIP_SOURCES.join('|')}] [--data <dir>] [--models-dir models]

Copies <run>/best (the run's best epoch on validation) or, with --from swa, <run>/swa (its latest
SWA average) into models/<arch>/ (model.json, weights.bin) with metrics.json (test and validation,
deduplicated against train) and training.json (recipe, per-epoch history, the shipped epoch).
The weights are stored as float16 when that loses at most ${FLOAT16_TOLERANCE_POINTS} accuracy points.`;

export const shipCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      {
        arch: { type: 'string' },
        run: { type: 'string' },
        from: { type: 'string' },
        data: { type: 'string' },
        'models-dir': { type: 'string' },
      },
      HELP,
    );
    if (!values) return 0;
    const arch = requiredChoice(values.arch, 'arch', ARCHS, HELP);
    const from = choiceFlag(values.from, 'from', SHIP_SOURCES, HELP) ?? 'best';
    const m = await shipModel({
      arch,
      runDir: resolve(values.run ?? `runs/${arch}`),
      from,
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
