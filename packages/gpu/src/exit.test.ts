// Dawn keeps Node alive while its instance is referenced; destroy() must let the process end.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { gpuForTests } from './test-support.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const gpu = await gpuForTests();
gpu?.destroy();

test.skipIf(!gpu)('a process that creates and destroys a context exits by itself with code 0', async () => {
  const child = spawn(
    process.execPath,
    ['bin/run-ts.mjs', 'packages/gpu/src/fixtures/exit-after-destroy.ts'],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | string>((resolve) => {
    // Long enough for a cold start on a busy 2-core machine; a hang never ends by itself.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running after 60 s');
    }, 60_000);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode ?? 'killed');
    });
  });
  expect(code, stderr).toBe(0);
  // 2x2 solid pixels → 2304 equal lumas of 200/255 each.
  expect(stdout.trim()).toBe(`destroyed destroyed 2304 ${((2304 * 200) / 255).toFixed(1)}`);
});
