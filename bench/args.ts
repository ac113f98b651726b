// Command line of `npm run bench`: suite names, --archs for the model suites, and the options
// each stand-alone script suite takes, which are passed on to that script.
import { ARCHS, isArch, type Arch } from '../packages/fer/src/models/architectures.ts';
import { SCRIPT_OPTIONS, type ScriptSuite } from './script-options.ts';

export const SUITES = ['kernels', 'train-step', 'stream-decode', 'stream-roundtrip'] as const;
export type Suite = (typeof SUITES)[number];

export interface BenchArgs {
  suites: Suite[];
  archs: Arch[];
  /** Arguments passed on to each script suite, in `--name=value` form. */
  scriptArgs: Partial<Record<Suite, string[]>>;
}

const isSuite = (s: string): s is Suite => (SUITES as readonly string[]).includes(s);
const isScriptSuite = (s: Suite): s is ScriptSuite => s in SCRIPT_OPTIONS;
const scriptSuites = SUITES.filter(isScriptSuite);
/** The script suites among `suites` that take option `name`. */
const takersOf = (name: string, suites: readonly Suite[]) =>
  suites.filter(isScriptSuite).filter((s) => Object.hasOwn(SCRIPT_OPTIONS[s], name));

/** Parses the arguments after `npm run bench --`; throws an Error that says what is wrong. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const suites: Suite[] = [];
  let archs: Arch[] = [...ARCHS];
  const options: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (!isSuite(arg)) throw new Error(`unknown suite '${arg}'; suites: ${SUITES.join(', ')}`);
      if (!suites.includes(arg)) suites.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
    else throw new Error(`--${name} needs a value`);
    if (name === 'archs') {
      const names = value.split(',').filter((a) => a !== '');
      const unknown = names.filter((a) => !isArch(a));
      if (unknown.length || names.length === 0) {
        throw new Error(
          `--archs: unknown architecture '${unknown.join(',') || value}'; architectures: ${ARCHS.join(', ')}`,
        );
      }
      archs = names.filter(isArch);
    } else options.push([name, value]);
  }
  const chosen = suites.length ? suites : [...SUITES];
  const scriptArgs: Partial<Record<Suite, string[]>> = {};
  for (const [name, value] of options) {
    const takers = takersOf(name, chosen);
    if (takers.length === 0) {
      const owners = takersOf(name, SUITES);
      const known = scriptSuites
        .map(
          (s) =>
            `${Object.keys(SCRIPT_OPTIONS[s])
              .map((o) => `--${o}`)
              .join(' ')} (${s})`,
        )
        .join(', ');
      throw new Error(
        owners.length
          ? `--${name} is an option of ${owners.join(', ')}, which is not being run`
          : `unknown option --${name}; options: --archs (kernels, train-step), ${known}`,
      );
    }
    for (const s of takers) (scriptArgs[s] ??= []).push(`--${name}=${value}`);
  }
  return { suites: chosen, archs, scriptArgs };
}
