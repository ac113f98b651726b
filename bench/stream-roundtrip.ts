// Round-trip latency of the stream server on the CPU path: 1 and 10 loopback clients, each
// sending one real face per frame (crops cut from franck.mp4 by ffmpeg, JPEG) at up to
// 30 frames/s and waiting for each result before the next frame (closed loop, as a camera
// client that skips frames while busy would). The server runs in its own process, as
// STACK-NOTES advises; the clients share this one.
//
//   node bin/run-ts.mjs bench/stream-roundtrip.ts [--seconds 15] [--clients 1,10] [--transport uws] [--fps 30]
//
// Prints a table and writes bench/results/stream-roundtrip.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCRIPT_OPTIONS } from './script-options.ts';
import { StreamClient } from '@affect/client';
import type { Health } from '@affect/stream-server';
import { videoCrops } from '../tests/support/stream.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: SCRIPT_OPTIONS['stream-roundtrip'] });
const seconds = Number(values.seconds);
const fps = Number(values.fps);
const clientCounts = values.clients.split(',').map(Number);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const median = (xs: number[]) =>
  percentile(
    xs.slice().sort((a, b) => a - b),
    50,
  );

async function startServer(): Promise<{ url: string; httpUrl: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/run-ts.mjs'),
      join(root, 'apps/stream-server/src/main.ts'),
      '--port',
      '0',
      '--transport',
      values.transport,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/ensemble /.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /stream\s+(ws:\/\/\S+)/.exec(out)![1];
  return {
    url,
    httpUrl: url.replace('ws://', 'http://').replace(/\/ws$/, ''),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Run {
  clients: number;
  frames: number;
  dropped: number;
  framesPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  serverTotalP50: number;
  /** Median server-side milliseconds per stage (see Timings in @affect/protocol). */
  stagesP50: { queue: number; decode: number; preprocess: number; inference: number };
  meanBatchFaces: number;
}

async function runClients(url: string, n: number, crops: Uint8Array[]): Promise<Run> {
  const clients = await Promise.all(
    Array.from({ length: n }, (_, i) => StreamClient.connect(url, { client: `bench-${i}` })),
  );
  const frame = (i: number) => [{ crop: crops[i % crops.length], box: { x: 115, y: 75, w: 160, h: 160 } }];
  // Warm-up: every client a few frames, untimed.
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < 5; i++) await c.sendFrame(frame(i));
    }),
  );

  const roundTrips: number[] = [];
  const serverTotals: number[] = [];
  const stages = {
    queue: [] as number[],
    decode: [] as number[],
    preprocess: [] as number[],
    inference: [] as number[],
  };
  const batchSizes: number[] = [];
  let dropped = 0;
  const interval = 1000 / fps;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    clients.map(async (c, ci) => {
      // Stagger the clients across one frame interval, as independent cameras would be.
      await new Promise((r) => setTimeout(r, (ci * interval) / n));
      let i = 0;
      let next = performance.now();
      while (performance.now() < end) {
        const o = await c.sendFrame(frame(ci * 7 + i++));
        if (o.kind === 'result') {
          roundTrips.push(o.roundTripMs);
          serverTotals.push(o.result.timings.total);
          for (const key of Object.keys(stages) as Array<keyof typeof stages>)
            stages[key].push(o.result.timings[key]);
          batchSizes.push(o.result.batchSize);
          dropped += o.result.dropped;
        } else if (o.kind === 'dropped') dropped++;
        else throw new Error(`frame failed: ${o.error.code} ${o.error.message}`);
        next += interval;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else next = performance.now();
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  const sorted = roundTrips.slice().sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    clients: n,
    frames: roundTrips.length,
    dropped,
    framesPerSecond: r2(roundTrips.length / elapsed),
    p50: r2(percentile(sorted, 50)),
    p90: r2(percentile(sorted, 90)),
    p99: r2(percentile(sorted, 99)),
    max: r2(sorted.at(-1) ?? NaN),
    serverTotalP50: r2(median(serverTotals)),
    stagesP50: {
      queue: r2(median(stages.queue)),
      decode: r2(median(stages.decode)),
      preprocess: r2(median(stages.preprocess)),
      inference: r2(median(stages.inference)),
    },
    meanBatchFaces: r2(batchSizes.reduce((a, b) => a + b, 0) / batchSizes.length),
  };
}

const crops = videoCrops(48);
const server = await startServer();
try {
  const health = (await (await fetch(`${server.httpUrl}/healthz`)).json()) as Health;
  console.log(
    `server: ${health.transport.implementation}, backend ${health.backend} (preprocess ${health.preprocess}), ` +
      `models ${health.models.map((m) => m.name).join(', ')}; adapter ${health.adapter ?? 'none'}`,
  );
  console.log(
    `clients: closed loop, up to ${fps} frames/s each, 1 face per frame (160x160 JPEG from franck.mp4), ${seconds} s per row\n`,
  );
  const runs: Run[] = [];
  for (const n of clientCounts) runs.push(await runClients(server.url, n, crops));
  const headers = [
    'clients',
    'frames',
    'frames/s',
    'dropped',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'server p50 ms',
    'queue/decode/pre/infer p50 ms',
    'faces/batch',
  ];
  const rows = runs.map((r) => [
    r.clients,
    r.frames,
    r.framesPerSecond,
    r.dropped,
    r.p50,
    r.p90,
    r.p99,
    r.max,
    r.serverTotalP50,
    `${r.stagesP50.queue}/${r.stagesP50.decode}/${r.stagesP50.preprocess}/${r.stagesP50.inference}`,
    r.meanBatchFaces,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells: Array<string | number>) =>
    cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  console.log(line(headers));
  for (const row of rows) console.log(line(row));

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'stream-roundtrip.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
        server: {
          transport: health.transport,
          backend: health.backend,
          preprocess: health.preprocess,
          adapter: health.adapter,
          models: health.models,
        },
        settings: {
          seconds,
          fpsPerClient: fps,
          facesPerFrame: 1,
          crop: '160x160 JPEG (ffmpeg -q:v 3) from franck.mp4',
        },
        runs,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${file}`);
} finally {
  await server.stop();
}
