// fer eval: accuracy, per-class metrics and the confusion matrix of a model on a split.
import { resolve } from 'node:path';
import { evaluate, EvalError } from '../eval/evaluate.ts';
import { formatMetrics } from '../eval/format.ts';
import { ModelFileError } from '../models/io.ts';
import { parseCommandArgs } from './args.ts';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

const HELP = `usage: fer eval --split <name> --model <cnn|vgg16|resnetv2|efficientnet|ensemble|dir> [options]

  --data <dir>         fer4-format data folder (default ../shared/data/fer4)
  --models-dir <dir>   where the shipped models live (default models/)
  --classes a,b,c      predict only among these classes (for data sets lacking some)
  --no-dedup           keep images whose pixels also appear in the train split
  --tta                average each prediction with the mirrored image's
  --json               print exactly one JSON object

By default images that also appear in the folder's train split are removed from
the evaluated split, and the count removed is reported.`;

export const evalCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      {
        data: { type: 'string' },
        split: { type: 'string' },
        model: { type: 'string' },
        'models-dir': { type: 'string' },
        classes: { type: 'string' },
        'no-dedup': { type: 'boolean' },
        tta: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      HELP,
    );
    if (!values) return 0;
    if (!values.split) throw new CliError(`--split is required\n\n${HELP}`);
    if (!values.model) throw new CliError(`--model is required\n\n${HELP}`);
    try {
      const report = await evaluate({
        dataDir: resolve(values.data ?? '../shared/data/fer4'),
        split: values.split,
        model: values.model,
        modelsDir: values['models-dir'] ? resolve(values['models-dir']) : undefined,
        classes: values.classes
          ?.split(',')
          .map((c) => c.trim())
          .filter(Boolean),
        dedup: !values['no-dedup'],
        tta: values.tta ? true : undefined,
      });
      if (values.json) {
        console.log(JSON.stringify(report));
      } else {
        console.log(`model ${report.model} on ${values.split}${report.tta ? ' (flip TTA)' : ''}`);
        if (report.removedDuplicates)
          console.log(
            `removed ${report.removedDuplicates} images that also appear in train (--no-dedup keeps them)`,
          );
        if (report.removedOtherClasses)
          console.log(`skipped ${report.removedOtherClasses} images of classes outside --classes`);
        console.log(formatMetrics(report));
      }
      return 0;
    } catch (err) {
      if (err instanceof EvalError || err instanceof ModelFileError)
        throw new CliError(err.message, err.code, 1);
      throw err;
    }
  },
};
