// `npm start` as a user runs it: the launcher starts the stream server with the shipped
// models and the web app, prints where and what runs, serves the page, and on SIGTERM the
// server closes every session with a reason and the launcher exits 0.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { StreamClient } from '@affect/client';
import { repoRoot } from '@affect/fer';
import { requireModels } from './support/stream.ts';
import { freePort } from './support/web.ts';

const modelsDir = requireModels();

describe.skipIf(!modelsDir)('npm start', () => {
  test('starts server and web app; prints URLs, adapter, backend, transport, models; SIGTERM closes sessions', async () => {
    const [streamPort, webPort] = [await freePort(), await freePort()];
    const launcher = spawn(process.execPath, [join(repoRoot(), 'bin/start.mjs')], {
      cwd: repoRoot(),
      env: { ...process.env, STREAM_PORT: String(streamPort), WEB_PORT: String(webPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a failed test can take the server child down with it.
      detached: true,
    });
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 180_000;
      while (!/ensemble /.test(out) || !/Listening on/.test(out)) {
        if (Date.now() > deadline || launcher.exitCode !== null)
          throw new Error(`server did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /stream\s+(ws:\/\/127\.0\.0\.1:\d+\S*)/.exec(out)![1];
      expect(out).toMatch(/transport\s+uws: uWebSockets\.js native/);
      expect(out).toMatch(/adapter\s+\S/);
      expect(out).toMatch(/backend\s+(wasm|webgpu)/);
      expect(out).toMatch(/models\s+\S*cnn/);
      expect(url).toContain(`:${streamPort}/`);
      expect(out).toContain(`open       http://127.0.0.1:${webPort}/`);
      expect(out).toContain(`ws://<the page's host>:${streamPort}/ws`);
      const page = await fetch(`http://127.0.0.1:${webPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);

      const client = await StreamClient.connect(url, { client: 'start-test' });
      launcher.kill('SIGTERM');
      expect(await client.closed).toEqual({ code: 1001, reason: 'server stopping (SIGTERM)' });
      expect(await exited).toBe(0);
    } finally {
      if (launcher.exitCode === null) process.kill(-launcher.pid!, 'SIGKILL');
    }
  }, 240_000);
});
