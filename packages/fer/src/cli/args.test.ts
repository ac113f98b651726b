import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandArgs } from './args.ts';
import { CliError } from './errors.ts';

const HELP = 'usage: fer thing --name <x> [--loud]';
const OPTIONS = { name: { type: 'string' }, loud: { type: 'boolean', default: false } } as const;

describe('parseCommandArgs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('returns the flag values, defaults included', () => {
    expect(parseCommandArgs(['--name', 'ada'], OPTIONS, HELP)).toEqual({ name: 'ada', loud: false });
    expect(parseCommandArgs(['--loud', '--name=x'], OPTIONS, HELP)).toEqual({ name: 'x', loud: true });
  });

  it.each([['--help'], ['-h']])('%s prints the help and returns undefined', (flag) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(parseCommandArgs(['--name', 'ada', flag], OPTIONS, HELP)).toBeUndefined();
    expect(log).toHaveBeenCalledWith(HELP);
  });

  it.each([[['--nope']], [['--name']], [['extra']]])('%j is a usage error ending with the help', (argv) => {
    let err: unknown;
    try {
      parseCommandArgs(argv, OPTIONS, HELP);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ exitCode: 2, code: 'usage' });
    const message = (err as CliError).message;
    expect(message.endsWith(`\n\n${HELP}`)).toBe(true);
    expect(message.split('\n')[0]).not.toBe('');
  });
});
