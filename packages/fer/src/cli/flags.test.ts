// Each fer command refuses a bad flag value with a usage error before it does any work.
import { describe, expect, it } from 'vitest';
import { doctorCommand } from './doctor.ts';
import { shipCommand } from './ship.ts';
import { trainCommand } from './train.ts';
import type { Command } from './main.ts';
import { commandUsageError } from './testing.ts';

/** The first line of the usage error (the rest is the command's help). */
async function usageMessage(command: Command, ...argv: string[]): Promise<string> {
  return (await commandUsageError(command, ...argv)).message.split('\n')[0];
}

describe('fer command flags', () => {
  it.each([
    [[], '--arch is required: one of cnn, vgg16, resnetv2, efficientnet'],
    [['--arch', 'vgg19'], "--arch must be one of cnn, vgg16, resnetv2, efficientnet, got 'vgg19'"],
    [['--arch', 'cnn', '--backend', 'cuda'], "--backend must be one of auto, webgpu, wasm, cpu, got 'cuda'"],
    [
      ['--arch', 'cnn', '--class-weights', 'inverse'],
      "--class-weights must be one of balanced, none, got 'inverse'",
    ],
    [
      ['--arch', 'cnn', '--backend', 'wasm', '--workers', '0'],
      "--workers must be a positive integer, got '0'",
    ],
    [
      ['--arch', 'cnn', '--backend', 'wasm', '--epochs=-2'],
      "--epochs must be a non-negative integer, got '-2'",
    ],
    [
      ['--arch', 'cnn', '--backend', 'wasm', '--lr', 'fast'],
      "--lr must be a non-negative number, got 'fast'",
    ],
  ])('fer train %j', async (argv, message) => {
    expect(await usageMessage(trainCommand, ...argv)).toBe(message);
  });

  it.each([
    [['--run', 'runs/cnn'], '--arch is required: one of cnn, vgg16, resnetv2, efficientnet'],
    [['--arch', 'cnn', '--from', 'last'], "--from must be one of best, swa, got 'last'"],
  ])('fer ship %j', async (argv, message) => {
    expect(await usageMessage(shipCommand, ...argv)).toBe(message);
  });

  it('fer doctor --prefer', async () => {
    expect(await usageMessage(doctorCommand, '--prefer', 'gpu')).toBe(
      "--prefer must be one of hardware, software, opengles, got 'gpu'",
    );
  });
});
