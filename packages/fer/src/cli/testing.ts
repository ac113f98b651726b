// Test helper for the fer commands' flag checks.
import { expect } from 'vitest';
import { CliError } from './errors.ts';
import type { Command } from './main.ts';

/**
 * The usage error `command` refuses `argv` with: fails the test where the command resolves, or
 * throws anything but a usage error (exit code 2).
 */
export async function commandUsageError(command: Command, ...argv: string[]): Promise<CliError> {
  const err = await command.run(argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  expect(err).toMatchObject({ exitCode: 2, code: 'usage' });
  return err as CliError;
}
