import { describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { trainCommand } from './train.ts';

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
