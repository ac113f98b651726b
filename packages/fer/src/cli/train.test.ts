import { describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { portablePath, resumeDefaults, trainCommand } from './train.ts';
import { commandUsageError } from './testing.ts';

const usageError = (...argv: string[]): Promise<CliError> => commandUsageError(trainCommand, ...argv);
/** The usage error of resuming a (missing) `arch` run with these flags. */
const resumeError = (arch: string, ...flags: string[]): Promise<CliError> =>
  usageError('--arch', arch, '--out', '/nonexistent/run', '--resume', ...flags);

describe('fer train --resume', () => {
  it('refuses recipe options, naming each, before touching the run', async () => {
    const err = await resumeError('cnn', '--lr', '0.01', '--no-augment', '--epochs', '30');
    expect(err.message).toMatch(/--lr, --no-augment cannot be given with it/);
    expect(err.message).not.toMatch(/--epochs/);
  });
});

describe('fer train --resume defaults', () => {
  it("keeps the run's own epochs, patience and precise-BN images where the command names none", () => {
    const out = mkdtempSync(join(tmpdir(), 'fer-resume-'));
    try {
      expect(resumeDefaults(out)).toEqual({});
      mkdirSync(join(out, 'checkpoint'));
      const config = { arch: 'cnn', epochs: 36, patience: 20, bnImages: 0, swaEpochs: 12 };
      writeFileSync(join(out, 'checkpoint', 'state.json'), JSON.stringify({ version: 1, config, epoch: 25 }));
      // Not the defaults (epochs 30, patience 8, 2,048 BN images): a resumed --patience 20 run
      // used to fall back to 8 and could stop early.
      expect(resumeDefaults(out)).toEqual({ epochs: 36, patience: 20, bnImages: 0 });
      const { bnImages: _, ...older } = config;
      writeFileSync(
        join(out, 'checkpoint', 'state.json'),
        JSON.stringify({ version: 1, config: older, epoch: 25 }),
      );
      expect(resumeDefaults(out)).toEqual({ epochs: 36, patience: 20, bnImages: undefined });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('fer train --swa', () => {
  it('takes --swa and --swa-lr with --resume (they extend a run) and refuses bad values', async () => {
    const resumed = await trainCommand
      .run([
        '--arch',
        'cnn',
        '--out',
        '/nonexistent/run',
        '--backend',
        'wasm',
        '--resume',
        '--swa',
        '5',
        '--swa-lr',
        '1e-4',
      ])
      .catch((e: unknown) => e as Error);
    expect(resumed).not.toBeInstanceOf(CliError);
    expect((resumed as Error).message).toMatch(/--resume: no checkpoint at .*checkpoint/);
    expect((await usageError('--arch', 'cnn', '--backend', 'wasm', '--swa', '2.5')).message).toMatch(
      /--swa must be a non-negative integer, got '2.5'/,
    );
    expect(
      (await usageError('--arch', 'cnn', '--backend', 'wasm', '--swa', '3', '--swa-lr', '0')).message,
    ).toMatch(/--swa-lr must be greater than 0/);
  });
});

describe('fer train --width', () => {
  it('scales cnn, vgg16 and efficientnet only, within (0, 4], and is part of the recipe', async () => {
    expect((await usageError('--arch', 'resnetv2', '--backend', 'wasm', '--width', '0.5')).message).toMatch(
      /--width scales cnn, vgg16 and efficientnet only; resnetv2 has a fixed width/,
    );
    expect((await usageError('--arch', 'vgg16', '--backend', 'wasm', '--width', '0')).message).toMatch(
      /--width must be above 0 and at most 4, got '0'/,
    );
    expect((await usageError('--arch', 'vgg16', '--backend', 'wasm', '--width', 'wide')).message).toMatch(
      /--width must be a non-negative number, got 'wide'/,
    );
    const err = await resumeError('vgg16', '--width', '0.5');
    expect(err.message).toMatch(/--width cannot be given with it/);
  });
});

describe('fer train --view', () => {
  it('takes pixels or gradients and is part of the recipe', async () => {
    expect((await usageError('--arch', 'cnn', '--backend', 'wasm', '--view', 'edges')).message).toMatch(
      /--view must be one of pixels, gradients, got 'edges'/,
    );
    const err = await resumeError('cnn', '--view', 'gradients');
    expect(err.message).toMatch(/--view cannot be given with it/);
  });
});

describe('fer train --erase', () => {
  it('takes a share from 0 to 1, needs augmentation and is part of the recipe', async () => {
    expect((await usageError('--arch', 'cnn', '--backend', 'wasm', '--erase', '1.5')).message).toMatch(
      /--erase is a share of the images, from 0 to 1, got '1.5'/,
    );
    expect((await usageError('--arch', 'cnn', '--backend', 'wasm', '--erase', 'often')).message).toMatch(
      /--erase must be a non-negative number, got 'often'/,
    );
    expect(
      (await usageError('--arch', 'cnn', '--backend', 'wasm', '--erase', '0.5', '--no-augment')).message,
    ).toMatch(/--erase is part of augmentation: drop --no-augment/);
    const err = await resumeError('cnn', '--erase', '0.5');
    expect(err.message).toMatch(/--erase cannot be given with it/);
  });
});

describe('fer train --init', () => {
  it('records a path inside the working directory relative to it, one outside as absolute', () => {
    expect(portablePath(join(process.cwd(), 'runs', 'cnn', 'best', 'model.json'))).toBe(
      join('runs', 'cnn', 'best', 'model.json'),
    );
    expect(portablePath('./runs/cnn/best/model.json')).toBe(join('runs', 'cnn', 'best', 'model.json'));
    const outside = join(tmpdir(), 'converted', 'model.json');
    expect(portablePath(outside)).toBe(resolve(outside));
  });
});
