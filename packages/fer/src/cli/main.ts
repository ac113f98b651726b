// Entry point of the `fer` CLI. Each subcommand lives in its own module and is loaded
// lazily, so `fer data stats` never pays for loading tfjs or Dawn.
import { CliError } from './errors.ts';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

type CommandLoader = () => Promise<Command>;

const commands: Record<string, CommandLoader> = {
  data: async () => (await import('./data.ts')).dataCommand,
  doctor: async () => (await import('./doctor.ts')).doctorCommand,
  train: async () => (await import('./train.ts')).trainCommand,
  eval: async () => (await import('./eval.ts')).evalCommand,
  ship: async () => (await import('./ship.ts')).shipCommand,
  ensemble: async () => (await import('./ensemble.ts')).ensembleCommand,
};

function usage(): string {
  return [
    'usage: fer <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((name) => `  ${name}`),
    '',
    "Run 'fer <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`fer: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`fer ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
