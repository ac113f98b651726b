// npm run bench [-- <suite> ...] [--archs=cnn,vgg16] [script options]: suites print a table and
// write bench/results/<suite>.json. Options of the stand-alone script suites (stream-decode:
// --rounds; stream-roundtrip: --seconds --clients --transport --fps) are passed on to them.
import { benchKernels } from './kernels.ts';
import { benchTrainStep } from './train-step.ts';
import { parseBenchArgs, type BenchArgs, type Suite } from './args.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(2);
}

/** Suites written as stand-alone scripts run in a child process of their own. */
function script(suite: Suite, file: string): () => Promise<void> {
  return async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = spawnSync(
      process.execPath,
      ['bin/run-ts.mjs', `bench/${file}`, ...(args.scriptArgs[suite] ?? [])],
      { cwd: root, stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error(`bench/${file} exited with ${r.status}`);
  };
}

const suites: Record<Suite, () => Promise<void>> = {
  kernels: () => benchKernels(),
  'train-step': () => benchTrainStep(args.archs),
  'stream-decode': script('stream-decode', 'stream-decode.ts'),
  'stream-roundtrip': script('stream-roundtrip', 'stream-roundtrip.ts'),
};

for (const name of args.suites) {
  console.log(`\n== ${name}`);
  await suites[name]();
}
process.exit(0);
