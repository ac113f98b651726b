// fer train: trains one architecture on a fer4-format folder (see trainer.ts).
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_AUGMENT_RANGES } from '@affect/gpu';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ARCHS, DEFAULT_WIDTH, VIEWS } from '../models/architectures.ts';
import {
  DEFAULT_CONFIG,
  resolveTrainBackend,
  SWA_LR_FRACTION,
  train,
  type TrainConfig,
  type TrainState,
} from '../train/trainer.ts';
import type { TrainBackend } from '../train/messages.ts';
import { formatDuration } from '../train/progress.ts';
import { choiceFlag, numberFlag, parseCommandArgs, requiredChoice } from './args.ts';
import { bestEpochText, listText } from '../report/build.ts';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

const CLASS_WEIGHTS = ['balanced', 'none'] as const;
const BACKENDS: readonly (TrainBackend | 'auto')[] = ['auto', 'webgpu', 'wasm', 'cpu'];

const ERASE_AREA = DEFAULT_AUGMENT_RANGES.eraseArea.map((f) => f * 100).join('-') + '%';

const HELP = `usage: fer train --arch <${ARCHS.join('|')}> [options]

  --data <dir>          fer4-format data folder (default ../shared/data/fer4)
  --out <dir>           run folder: checkpoint/, best/, log.jsonl (default runs/<arch>)
  --epochs <n>          epoch budget (default ${DEFAULT_CONFIG.epochs})
  --batch <n>           batch size, split across workers (default ${DEFAULT_CONFIG.batch})
  --lr <x>              peak learning rate, Adam (default ${DEFAULT_CONFIG.lr})
  --weight-decay <x>    decoupled weight decay (default ${DEFAULT_CONFIG.weightDecay})
  --label-smoothing <x> (default ${DEFAULT_CONFIG.labelSmoothing})
  --class-weights <balanced|none>  (default ${DEFAULT_CONFIG.classWeights})
  --no-augment          train without augmentation
  --erase <p>           random erasing: with augmentation, erase one rectangle (${ERASE_AREA} of the
                        image, a random grey) in a share p of the training images (default 0: none)
  --patience <n>        early stopping: epochs without a better validation macro-F1 (default ${DEFAULT_CONFIG.patience})
  --bn-images <n>       re-estimate batch-norm statistics on n training images before each
                        validation ("precise BN"; 0 keeps the running averages; default ${DEFAULT_CONFIG.bnImages})
  --seed <n>            (default ${DEFAULT_CONFIG.seed})
  --width <x>           channel width multiplier of cnn (default ${DEFAULT_WIDTH.cnn}: 32-64-128-256), vgg16
                        (default ${DEFAULT_WIDTH.vgg16}: VGG16's widths / 4) or efficientnet (default
                        ${DEFAULT_WIDTH.efficientnet}); 1.5x the default width is about 2.25x the work
  --view <${VIEWS.join('|')}>  what the network sees: the gray image (default) or, through a
                        fixed 3x3 Sobel layer and a ReLU, its horizontal and vertical gradients
  --workers <n>         data-parallel worker threads (default: cores, max 2)
  --backend <auto|webgpu|wasm|cpu>  where replicas run (default auto: WebGPU on a real GPU, else wasm)
  --limit-per-class <n> train on at most n images per class (quick runs)
  --val-limit <n>       validate on at most n images
  --swa <n>             stochastic weight averaging: n more epochs after --epochs at a
                        constant learning rate, averaging the weights at the end of each;
                        validation and best/ then hold the average, swa/ the latest one;
                        never stopped early (default 0: none)
  --swa-lr <x>          the SWA epochs' learning rate (default ${SWA_LR_FRACTION} x --lr)
  --init <model.json>   start from these weights (transfer learning)
  --freeze <n>          keep the first n layers frozen (with --init)
  --resume              continue the run in --out from its last checkpoint, with its own
                        recipe: only --epochs, --patience, --bn-images (each default: the
                        run's own), --swa, --swa-lr, --data, --backend and --workers may be
                        given; the recipe options are refused

Training uses the train split minus every image also in validation or test and
minus blank images. Validation runs every epoch on validation minus its copies of
train images; the best epoch by macro-F1 is kept in <out>/best.`;

/**
 * A path as the run records it: relative to the working directory (the repo root under npm
 * run) when inside it, so the recipe and the report's commands hold on another machine.
 */
export function portablePath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? resolve(p) : rel;
}

/**
 * What a resumed run keeps where the command line is silent: the epoch budget, patience and
 * precise-BN images of the run checkpointed in `out` (none where nothing is there: train()
 * then says so). A checkpoint from before precise BN existed names no image count.
 */
export function resumeDefaults(out: string): Partial<Pick<TrainConfig, 'epochs' | 'patience' | 'bnImages'>> {
  const path = join(out, 'checkpoint', 'state.json');
  if (!existsSync(path)) return {};
  const { epochs, patience, bnImages } = (JSON.parse(readFileSync(path, 'utf8')) as TrainState).config;
  return { epochs, patience, bnImages };
}

/** Options that define a run's recipe: fixed once it starts, so refused with --resume. */
const RECIPE_OPTIONS = [
  'batch',
  'lr',
  'weight-decay',
  'label-smoothing',
  'class-weights',
  'no-augment',
  'erase',
  'seed',
  'limit-per-class',
  'val-limit',
  'init',
  'freeze',
  'width',
  'view',
] as const;

export const trainCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(
      argv,
      {
        arch: { type: 'string' },
        data: { type: 'string' },
        out: { type: 'string' },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        'weight-decay': { type: 'string' },
        'label-smoothing': { type: 'string' },
        'class-weights': { type: 'string' },
        'no-augment': { type: 'boolean' },
        erase: { type: 'string' },
        patience: { type: 'string' },
        'bn-images': { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        backend: { type: 'string' },
        'limit-per-class': { type: 'string' },
        'val-limit': { type: 'string' },
        init: { type: 'string' },
        freeze: { type: 'string' },
        width: { type: 'string' },
        view: { type: 'string' },
        swa: { type: 'string' },
        'swa-lr': { type: 'string' },
        resume: { type: 'boolean' },
      },
      HELP,
    );
    if (!values) return 0;
    const arch = requiredChoice(values.arch, 'arch', ARCHS, HELP);
    if (values.resume) {
      const recipe = RECIPE_OPTIONS.filter((name) => values[name] !== undefined);
      if (recipe.length > 0)
        throw new CliError(
          `--resume continues a run with the recipe it started with, so ${recipe.map((n) => `--${n}`).join(', ')} ` +
            `cannot be given with it; start a new run (another --out) to change the recipe`,
        );
    }
    const classWeights =
      choiceFlag(values['class-weights'], 'class-weights', CLASS_WEIGHTS) ?? DEFAULT_CONFIG.classWeights;
    const backend = await resolveTrainBackend(choiceFlag(values.backend, 'backend', BACKENDS) ?? 'auto');
    const defaultWorkers = backend === 'webgpu' ? 1 : DEFAULT_CONFIG.workers;
    if (values.freeze && !values.init) throw new CliError('--freeze needs --init <model.json>');
    const width = numberFlag(values.width, 'width');
    if (width !== undefined) {
      if (DEFAULT_WIDTH[arch] === undefined)
        throw new CliError(
          `--width scales ${listText(Object.keys(DEFAULT_WIDTH))} only; ${arch} has a fixed width`,
        );
      if (width <= 0 || width > 4)
        throw new CliError(`--width must be above 0 and at most 4, got '${values.width}'`);
    }
    const view = choiceFlag(values.view, 'view', VIEWS);
    const erase = numberFlag(values.erase, 'erase');
    if (erase !== undefined && erase > 1)
      throw new CliError(`--erase is a share of the images, from 0 to 1, got '${values.erase}'`);
    if (erase && values['no-augment'])
      throw new CliError('--erase is part of augmentation: drop --no-augment');
    const out = resolve(values.out ?? `runs/${arch}`);
    const kept = values.resume ? resumeDefaults(out) : {};
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      arch,
      dataDir: resolve(values.data ?? '../shared/data/fer4'),
      out,
      epochs: numberFlag(values.epochs, 'epochs', 'integer') ?? kept.epochs ?? DEFAULT_CONFIG.epochs,
      batch: numberFlag(values.batch, 'batch', 'integer') ?? DEFAULT_CONFIG.batch,
      lr: numberFlag(values.lr, 'lr') ?? DEFAULT_CONFIG.lr,
      weightDecay: numberFlag(values['weight-decay'], 'weight-decay') ?? DEFAULT_CONFIG.weightDecay,
      labelSmoothing:
        numberFlag(values['label-smoothing'], 'label-smoothing') ?? DEFAULT_CONFIG.labelSmoothing,
      classWeights,
      augment: !values['no-augment'],
      ...(erase ? { erase } : {}),
      patience:
        numberFlag(values.patience, 'patience', 'integer') ?? kept.patience ?? DEFAULT_CONFIG.patience,
      seed: numberFlag(values.seed, 'seed', 'integer') ?? DEFAULT_CONFIG.seed,
      workers: numberFlag(values.workers, 'workers', 'count') ?? defaultWorkers,
      backend,
      limitPerClass: numberFlag(values['limit-per-class'], 'limit-per-class', 'integer'),
      valLimit: numberFlag(values['val-limit'], 'val-limit', 'integer'),
      init: values.init ? portablePath(values.init) : undefined,
      freeze: numberFlag(values.freeze, 'freeze', 'integer') ?? 0,
      ...(width !== undefined ? { width } : {}),
      ...(view !== undefined && view !== 'pixels' ? { view } : {}),
      bnImages:
        numberFlag(values['bn-images'], 'bn-images', 'integer') ?? kept.bnImages ?? DEFAULT_CONFIG.bnImages,
      swaEpochs: numberFlag(values.swa, 'swa', 'integer'),
      swaLr: numberFlag(values['swa-lr'], 'swa-lr'),
    };
    if (config.swaLr === 0) throw new CliError('--swa-lr must be greater than 0');
    if (config.swaLr !== undefined && !config.swaEpochs && !values.resume)
      throw new CliError('--swa-lr sets the rate of the SWA epochs: give --swa <n> too');
    if (config.batch < 2) throw new CliError('--batch must be at least 2');
    const result = await train(config, Boolean(values.resume), {
      onStart: (i) =>
        console.log(
          `fer train ${config.arch}: ${i.params.toLocaleString('en')} parameters, ${i.trainSize} training / ${i.valSize} validation images, ` +
            `${i.stepsPerEpoch} steps of ${config.batch} per epoch, ${config.workers} worker(s) on ${i.backend}` +
            (i.resumedFrom ? `, resuming after epoch ${i.resumedFrom}` : ''),
        ),
      onEpoch: (l) =>
        console.log(
          `epoch ${l.epoch}: train loss ${l.trainLoss.toFixed(4)} acc ${l.trainAccuracy.toFixed(3)} | ` +
            `val${l.swa ? ` (average of ${l.swa})` : ''} loss ${l.valLoss.toFixed(4)} acc ${l.valAccuracy.toFixed(3)} macro-F1 ${l.valMacroF1.toFixed(3)}` +
            `${l.best ? ' (best)' : ''} | ${l.imagesPerSecond.toFixed(1)} img/s, ${formatDuration(l.seconds)}`,
        ),
    });
    const s = result.state;
    console.log(
      `done: ${s.epoch} epochs in ${formatDuration(s.trainSeconds)}${result.stoppedEarly ? ' (early stop)' : ''}; ` +
        `best validation macro-F1 ${s.bestMacroF1.toFixed(3)} at ${bestEpochText(s)}, saved in ${result.bestDir}` +
        (result.stoppedEarly && s.config.swaEpochs && s.epoch < s.config.epochs
          ? `; the ${s.config.swaEpochs} SWA epochs did not run`
          : ''),
    );
    return 0;
  },
};
