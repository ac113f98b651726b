// Entry point of the `fer` CLI. Each subcommand lives in its own module and is loaded
// lazily, so `fer data stats` never pays for loading tfjs or Dawn.
import { CliError } from './errors.ts';

export interface Command {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

// Summaries live here, not in the modules, so `fer --help` loads none of them.
const commands: Record<string, CommandEntry> = {
  data: {
    summary: 'inspect and import data sets (stats, import-folder, import-csv)',
    load: async () => (await import('./data.ts')).dataCommand,
  },
  doctor: {
    summary: 'report the GPU adapter, tfjs backends and versions',
    load: async () => (await import('./doctor.ts')).doctorCommand,
  },
  train: {
    summary: 'train cnn | vgg16 | resnetv2 | efficientnet',
    load: async () => (await import('./train.ts')).trainCommand,
  },
  eval: {
    summary: 'evaluate a model or the ensemble on a split',
    load: async () => (await import('./eval.ts')).evalCommand,
  },
  ship: {
    summary: "copy a run's best model into models/ with its metrics",
    load: async () => (await import('./ship.ts')).shipCommand,
  },
  ensemble: {
    summary: 'fit the ensemble weights on validation',
    load: async () => (await import('./ensemble.ts')).ensembleCommand,
  },
  report: {
    summary: 'write models/REPORT.md, report.html and the model cards',
    load: async () => (await import('./report.ts')).reportCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    'usage: fer <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
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
  const entry = commands[name];
  if (!entry) {
    console.error(`fer: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`fer ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
