// npm run bench [-- <suite> ...]: suites print a table and write bench/results/<suite>.json.
import { benchKernels } from './kernels.ts';
import { benchTrainStep } from './train-step.ts';
import { ARCHS, isArch } from '../packages/fer/src/models/architectures.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Suites written as stand-alone scripts run in a child process of their own. */
function script(file: string): () => Promise<void> {
  return async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = spawnSync(process.execPath, ['bin/run-ts.mjs', `bench/${file}`], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`bench/${file} exited with ${r.status}`);
  };
}

// --archs=cnn,vgg16 limits the model suites (the cpu-backend baseline is slow).
const archFlag = process.argv.find((a) => a.startsWith('--archs='));
const archs = archFlag ? archFlag.slice('--archs='.length).split(',').filter(isArch) : [...ARCHS];

const suites: Record<string, () => Promise<void>> = {
  kernels: () => benchKernels(),
  'train-step': () => benchTrainStep(archs),
  'stream-decode': script('stream-decode.ts'),
  'stream-roundtrip': script('stream-roundtrip.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  const run = suites[name];
  if (!run) {
    console.error(`unknown suite '${name}'; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== ${name}`);
  await run();
}
process.exit(0);
