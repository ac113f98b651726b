// fer ensemble: fit the ensemble's member weights on validation.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fitEnsemble } from '../models/ensemble.ts';
import type { Command } from './main.ts';

const HELP = `usage: fer ensemble [--data <dir>] [--models-dir models]

Fits the weights of every model shipped in models/ on the validation split (minus its
copies of train images), maximising macro-F1 over a 1/20 grid of the simplex, with and
without flip test-time augmentation, and writes models/ensemble.json.`;

export const ensembleCommand: Command = {
  summary: 'fit the ensemble weights on validation',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        'models-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const { spec } = await fitEnsemble(
      resolve(values.data ?? '../shared/data/fer4'),
      values['models-dir'] ? resolve(values['models-dir']) : undefined,
    );
    const f = (x: number) => x.toFixed(3);
    console.log(`members ${spec.members.map((m, i) => `${m} ${spec.weights[i].toFixed(2)}`).join(', ')}`);
    console.log(
      `validation macro-F1 ${f(spec.validation.plain.macroF1)} plain, ${f(spec.validation.tta.macroF1)} with flip TTA ` +
        `(n=${spec.validation.n}); using ${spec.tta ? 'TTA' : 'no TTA'}`,
    );
    return 0;
  },
};
