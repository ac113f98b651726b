import { afterEach, describe, expect, it, vi } from 'vitest';
import { choiceFlag, numberFlag, parseCommandArgs, requiredChoice } from './args.ts';
import { CliError } from './errors.ts';

const HELP = 'usage: fer thing --name <x> [--loud]';
const OPTIONS = { name: { type: 'string' }, loud: { type: 'boolean', default: false } } as const;

/** The usage error `run` throws (fails the test where it throws none or another kind). */
function usageError(run: () => unknown): CliError {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CliError);
  expect(err).toMatchObject({ exitCode: 2, code: 'usage' });
  return err as CliError;
}

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
    const message = usageError(() => parseCommandArgs(argv, OPTIONS, HELP)).message;
    expect(message.endsWith(`\n\n${HELP}`)).toBe(true);
    expect(message.split('\n')[0]).not.toBe('');
  });
});

describe('numberFlag', () => {
  it('is undefined where the flag is absent and the number where it is given', () => {
    expect(numberFlag(undefined, 'lr')).toBeUndefined();
    expect(numberFlag('2e-3', 'lr')).toBe(0.002);
    expect(numberFlag('0', 'lr')).toBe(0);
    expect(numberFlag('0', 'seed', 'integer')).toBe(0);
    expect(numberFlag('7', 'runs', 'count')).toBe(7);
  });

  it.each([
    ['-1', 'number', "--x must be a non-negative number, got '-1'"],
    ['', 'number', "--x must be a non-negative number, got ''"],
    [' ', 'number', "--x must be a non-negative number, got ' '"],
    ['Infinity', 'number', "--x must be a non-negative number, got 'Infinity'"],
    ['1,5', 'number', "--x must be a non-negative number, got '1,5'"],
    ['2.5', 'integer', "--x must be a non-negative integer, got '2.5'"],
    ['-3', 'integer', "--x must be a non-negative integer, got '-3'"],
    ['0', 'count', "--x must be a positive integer, got '0'"],
    ['1.5', 'count', "--x must be a positive integer, got '1.5'"],
  ] as const)('refuses %j as a %s', (value, kind, message) => {
    expect(usageError(() => numberFlag(value, 'x', kind)).message).toBe(message);
  });
});

describe('choiceFlag and requiredChoice', () => {
  const SIDES = ['left', 'right'] as const;

  it('return the value where it is allowed; choiceFlag is undefined where the flag is absent', () => {
    expect(choiceFlag('right', 'side', SIDES)).toBe('right');
    expect(choiceFlag(undefined, 'side', SIDES)).toBeUndefined();
    expect(requiredChoice('left', 'side', SIDES, HELP)).toBe('left');
  });

  it('refuse another value by listing the allowed ones, with the help where given', () => {
    expect(usageError(() => choiceFlag('up', 'side', SIDES)).message).toBe(
      "--side must be one of left, right, got 'up'",
    );
    expect(usageError(() => choiceFlag('Left', 'side', SIDES, HELP)).message).toBe(
      `--side must be one of left, right, got 'Left'\n\n${HELP}`,
    );
    expect(usageError(() => requiredChoice('up', 'side', SIDES, HELP)).message).toBe(
      `--side must be one of left, right, got 'up'\n\n${HELP}`,
    );
  });

  it('requiredChoice refuses an absent flag, listing the choices', () => {
    expect(usageError(() => requiredChoice(undefined, 'side', SIDES, HELP)).message).toBe(
      `--side is required: one of left, right\n\n${HELP}`,
    );
  });
});
