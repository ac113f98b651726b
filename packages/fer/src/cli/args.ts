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
