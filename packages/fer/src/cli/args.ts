// The flag parsing every `fer` command shares: strict flags, -h/--help, usage errors as CliError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

type Values<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>['values'];

/**
 * The values of `argv`'s flags, or undefined when -h/--help asked for `help`, which is then
 * printed (the command returns 0). An unknown flag, a missing value or a positional argument
 * is a usage error whose message ends with `help`.
 */
export function parseCommandArgs<const T extends Options>(
  argv: string[],
  options: T,
  help: string,
): Values<T> | undefined {
  let values: Values<T> & { help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, ...HELP_OPTION },
      strict: true,
      allowPositionals: false,
    }) as { values: Values<T> & { help?: boolean } });
  } catch (err) {
    // parseArgs throws TypeError with codes ERR_PARSE_ARGS_*; its first line says what was wrong.
    throw new CliError(`${(err as Error).message.split('\n')[0]}\n\n${help}`);
  }
  if (values.help) {
    console.log(help);
    return undefined;
  }
  return values;
}

/** What a number flag accepts: any number ≥ 0, an integer ≥ 0, or an integer ≥ 1. */
export type NumberKind = 'number' | 'integer' | 'count';

const NUMBER_KIND_TEXT: Record<NumberKind, string> = {
  number: 'a non-negative number',
  integer: 'a non-negative integer',
  count: 'a positive integer',
};

/** The value of `--name` as a number of the given kind, or undefined where the flag is absent. */
export function numberFlag(
  value: string | undefined,
  name: string,
  kind: NumberKind = 'number',
): number | undefined {
  if (value === undefined) return undefined;
  const x = value.trim() === '' ? NaN : Number(value);
  const ok =
    Number.isFinite(x) && x >= (kind === 'count' ? 1 : 0) && (kind === 'number' || Number.isInteger(x));
  if (!ok) throw new CliError(`--${name} must be ${NUMBER_KIND_TEXT[kind]}, got '${value}'`);
  return x;
}

/**
 * The value of `--name` where it is one of `allowed`, or undefined where the flag is absent.
 * A value outside `allowed` is a usage error listing them (and ending with `help` if given).
 */
export function choiceFlag<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
  help?: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(
      `--${name} must be one of ${allowed.join(', ')}, got '${value}'${help ? `\n\n${help}` : ''}`,
    );
  return value as T;
}

/** choiceFlag for a flag the command cannot run without. */
export function requiredChoice<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
  help: string,
): T {
  const chosen = choiceFlag(value, name, allowed, help);
  if (chosen === undefined)
    throw new CliError(`--${name} is required: one of ${allowed.join(', ')}\n\n${help}`);
  return chosen;
}
