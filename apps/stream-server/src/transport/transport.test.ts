// Both transports under backpressure, with a real client that stops reading: sends report
// backpressure, the outbox bounds what the server holds, drain resumes writing, and every
// message is either received (in order, the latest always) or counted as lost.
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { unpack } from 'msgpackr';
import type { ResultMessage } from '@affect/protocol';
import { Outbox } from '../outbox.ts';
import type { Connection, RunningTransport, TransportHandlers, TransportOptions } from './types.ts';
import { startUwsTransport } from './uws.ts';
import { startWsTransport } from './ws.ts';

const MESSAGES = 1500;
const PAD = 16 * 1024;
const HIGH_WATER = 256 * 1024;

const start = { uws: startUwsTransport, ws: startWsTransport };
let running: RunningTransport | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe.each(['uws', 'ws'] as const)('%s transport', (name) => {
  const options: TransportOptions = {
    host: '127.0.0.1',
    port: 0,
    path: '/ws',
    maxPayloadBytes: 1024,
    highWaterBytes: HIGH_WATER,
  };

  test('a client that stops reading: bounded memory, nothing lost silently, drain resumes', async () => {
    let outbox: Outbox | undefined;
    let conn: Connection | undefined;
    let maxBuffered = 0;
    const opened = new Promise<void>((resolveOpen) => {
      const handlers: TransportHandlers = {
        open(c) {
          conn = c;
          outbox = new Outbox(c, 16, HIGH_WATER);
          resolveOpen();
          return {
            message() {},
            drain: () => {
              outbox!.flush();
              maxBuffered = Math.max(maxBuffered, c.bufferedAmount());
            },
            closed() {},
          };
        },
        http: () => undefined,
      };
      void start[name](options, handlers).then((t) => (running = t));
    });
    while (!running) await new Promise((r) => setTimeout(r, 5));
    const client = new WebSocket(`ws://127.0.0.1:${running.port}/ws`);
    const received: number[] = [];
    client.on('message', (data) => received.push((unpack(data as Buffer) as ResultMessage).frameId));
    await new Promise((r) => client.once('open', r));
    await opened;
    // The client stops reading (its socket, under ws's API).
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const pad = 'x'.repeat(PAD);
    for (let i = 0; i < MESSAGES; i++) {
      const message = {
        type: 'result',
        frameId: i,
        capturedAt: 0,
        faces: [],
        timings: { queue: 0, decode: 0, preprocess: 0, inference: 0, total: 0 },
        batchSize: 0,
        dropped: 0,
        lostMessages: 0,
        pad,
      } as ResultMessage;
      outbox!.push(message);
      maxBuffered = Math.max(maxBuffered, conn!.bufferedAmount());
      if (i % 100 === 0) await new Promise((r) => setImmediate(r)); // let the socket write
    }
    expect(outbox!.stats.lost).toBeGreaterThan(0); // 24 MB can't fit in socket buffers
    expect(outbox!.queued).toBeLessThanOrEqual(16);
    // What the server holds for this client: its high-water mark plus one message.
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER + PAD + 1024);

    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    const deadline = Date.now() + 20_000;
    while (received.length + outbox!.stats.lost < MESSAGES && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(received.length + outbox!.stats.lost).toBe(MESSAGES);
    expect(received).toEqual(received.slice().sort((a, b) => a - b));
    expect(received.at(-1)).toBe(MESSAGES - 1);
    client.close();
  });

  test('GET routes answer; unknown paths are 404', async () => {
    running = await start[name](options, {
      open: () => ({ message() {}, drain() {}, closed() {} }),
      http: (path) =>
        path === '/healthz'
          ? { status: 200, contentType: 'application/json', body: '{"ok":true}' }
          : undefined,
    });
    const ok = await fetch(`http://127.0.0.1:${running.port}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json');
    expect(await ok.json()).toEqual({ ok: true });
    expect((await fetch(`http://127.0.0.1:${running.port}/other`)).status).toBe(404);
  });
});

test("uws: the native server runs, not the package's JavaScript fallback", async () => {
  const { loadNativeUws } = await import('./uws.ts');
  expect(loadNativeUws().version).toMatch(/uws-js-unofficial@20\.30/);
});
