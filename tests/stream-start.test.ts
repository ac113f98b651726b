// `npm start` as a user runs it: the launcher starts the server process with the shipped
// models, prints where and what runs, and on SIGTERM the server finishes and closes every
// session with a reason before the launcher exits 0.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { StreamClient } from '@affect/client';
import { repoRoot } from '@affect/fer';
import { requireModels } from './support/stream.ts';

const modelsDir = requireModels();

describe.skipIf(!modelsDir)('npm start', () => {
  test('prints the URL, adapter, backend, transport and models; SIGTERM closes sessions with 1001', async () => {
    const launcher = spawn(process.execPath, [join(repoRoot(), 'bin/start.mjs'), '--port', '0'], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a failed test can take the server child down with it.
      detached: true,
    });
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!/ensemble /.test(out)) {
        if (Date.now() > deadline || launcher.exitCode !== null)
          throw new Error(`server did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /stream\s+(ws:\/\/\S+)/.exec(out)![1];
      expect(out).toMatch(/transport\s+uws: uWebSockets\.js native/);
      expect(out).toMatch(/adapter\s+\S/);
      expect(out).toMatch(/backend\s+(wasm|webgpu)/);
      expect(out).toMatch(/models\s+\S*cnn/);

      const client = await StreamClient.connect(url, { client: 'start-test' });
      launcher.kill('SIGTERM');
      expect(await client.closed).toEqual({ code: 1001, reason: 'server stopping (SIGTERM)' });
      expect(await exited).toBe(0);
    } finally {
      if (launcher.exitCode === null) process.kill(-launcher.pid!, 'SIGKILL');
    }
  });
});
