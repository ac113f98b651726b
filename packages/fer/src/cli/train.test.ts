import { describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { portablePath, trainCommand } from './train.ts';

async function usageError(...argv: string[]): Promise<CliError> {
  const err = await trainCommand.run(argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  return err as CliError;
}

describe('fer train --resume', () => {
  it('refuses recipe options, naming each, before touching the run', async () => {
    const err = await usageError(
      '--arch',
      'cnn',
      '--out',
      '/nonexistent/run',
      '--resume',
      '--lr',
      '0.01',
      '--no-augment',
      '--epochs',
      '30',
    );
    expect(err.message).toMatch(/--lr, --no-augment cannot be given with it/);
    expect(err.message).not.toMatch(/--epochs/);
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
