// fer ensemble: fit the ensemble's member weights on validation.
import { resolve } from 'node:path';
import { CROSS_FIT_REPEATS, fitEnsemble, TTA_MIN_GAIN } from '../models/ensemble.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

const HELP = `usage: fer ensemble [--data <dir>] [--models-dir models] [--members a,b,c]

Fits the weights of every model shipped in models/ on the validation split (minus its
copies of train images), maximising macro-F1 over a 1/20 grid of the simplex, then a
per-class bias on the log-probabilities where that helps held out (2-fold cross-fitting on
validation, pooled over ${CROSS_FIT_REPEATS} different splits into halves). Flip test-time
augmentation doubles the work per face, so it is used only where it raises the held-out
macro-F1 by at least ${TTA_MIN_GAIN}. Writes models/ensemble.json.

--members fits over the named shipped models only and gives the others weight 0, so the
server loads them but runs fewer forward passes per face (a faster CPU server).`;

export const ensembleCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      { data: { type: 'string' }, 'models-dir': { type: 'string' }, members: { type: 'string' } },
      HELP,
    );
    if (!values) return 0;
    const { spec } = await fitEnsemble(
      resolve(values.data ?? '../shared/data/fer4'),
      values['models-dir'] ? resolve(values['models-dir']) : undefined,
      values.members === undefined ? {} : { only: values.members.split(',').map((m) => m.trim()) },
    );
    const f = (x: number) => x.toFixed(3);
    console.log(`members ${spec.members.map((m, i) => `${m} ${spec.weights[i].toFixed(2)}`).join(', ')}`);
    const tc = spec.validation.ttaCheck;
    console.log(
      `validation macro-F1 ${f(spec.validation.plain.macroF1)} plain, ${f(spec.validation.tta.macroF1)} with flip TTA ` +
        `(n=${spec.validation.n}); held out ${f(tc.withoutTta)} without TTA, ${f(tc.withTta)} with: ` +
        `${spec.tta ? 'using TTA' : `no TTA (it doubles the work and needs a held-out gain of ${tc.minGain})`}`,
    );
    const check = spec.validation.classBiasCheck;
    console.log(
      `class bias ${spec.classBias ? `[${spec.classBias.map((b) => b.toFixed(1)).join(', ')}]` : 'none'}: ` +
        `held-out macro-F1 ${f(check.withBias)} with a fitted bias, ${f(check.withoutBias)} without`,
    );
    console.log(
      `held out by cross-fitting on halves of validation (${spec.validation.crossFitRepeats} splits pooled): ` +
        `macro-F1 ${f(spec.validation.crossFitted.macroF1)}, ` +
        `accuracy ${f(spec.validation.crossFitted.accuracy)}`,
    );
    return 0;
  },
};
