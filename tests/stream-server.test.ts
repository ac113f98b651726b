// The stream server end to end, on both transports: a real server on a loopback port, real
// WebSocket clients, real faces (fer4 encoded as JPEG, crops cut from franck.mp4 by ffmpeg),
// the shipped models on the CPU path, and fer's evaluation code as the reference.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeMessage, type FaceInput, type ResultMessage } from '@affect/protocol';
import { HelloRejectedError, StreamClient, type FrameOutcome } from '@affect/client';
import { requireSharedData } from '@affect/fer';
import {
  createEngine,
  membersToRun,
  startStreamServer,
  type Engine,
  type StreamServer,
} from '@affect/stream-server';
import {
  agreement,
  argmaxRows,
  fer4Faces,
  gray48,
  hasFfmpeg,
  randomJpeg,
  referenceProbs,
  requireModels,
  requireOrSkip,
  testConfig,
  videoCrops,
  type Fer4Faces,
} from './support/stream.ts';

const dataDir = requireSharedData();
const modelsDir = requireModels();
const ffmpeg = requireOrSkip(hasFfmpeg(), 'ffmpeg is not installed (apt-get install ffmpeg)');
const ready = Boolean(dataDir && modelsDir);

const box = (i: number) => ({ x: i, y: 2 * i, w: 48, h: 48 });
const face = (crop: Uint8Array, i = 0): FaceInput => ({ crop, box: box(i) });

function expectResult(o: FrameOutcome): ResultMessage {
  if (o.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(o).slice(0, 300)}`);
  return o.result;
}

/** Sends `faces` in frames of `perFrame`, one frame at a time; the ensemble labels in order. */
async function classify(client: StreamClient, files: Uint8Array[], perFrame: number): Promise<number[]> {
  const classes = client.welcome.classes;
  const labels: number[] = [];
  for (let start = 0; start < files.length; start += perFrame) {
    const chunk = files.slice(start, start + perFrame);
    const r = expectResult(await client.sendFrame(chunk.map((f, i) => face(f, start + i))));
    expect(r.faces.map((f) => f.box)).toEqual(chunk.map((_, i) => box(start + i)));
    for (const f of r.faces) labels.push(classes.indexOf(f.label));
  }
  return labels;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let engine: Engine;
let fer4: Fer4Faces;

beforeAll(async () => {
  if (!ready) return;
  engine = await createEngine({ backend: 'wasm', modelsDir: modelsDir! });
  fer4 = await fer4Faces(dataDir!);
});
afterAll(() => engine?.dispose());

describe.skipIf(!ready).each(['uws', 'ws'] as const)('stream server over %s', (transport) => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer(testConfig(transport, modelsDir!), { engine });
  });
  afterAll(() => server?.shutdown());

  test('/healthz says which transport, adapter, backend and models run; /metrics is Prometheus text', async () => {
    const health = await (await fetch(`${server.httpUrl}/healthz`)).json();
    expect(health.status).toBe('ok');
    expect(health.transport.name).toBe(transport);
    expect(health.transport.implementation).toMatch(transport === 'uws' ? /uWebSockets\.js native/ : /^ws@8/);
    expect(health.backend).toBe('wasm');
    expect(health.preprocess).toBe('reference');
    expect(health.models.map((m: { name: string }) => m.name)).toEqual(
      engine.models.members.map((m) => m.name),
    );
    expect(['ensemble.json', 'equal-weights']).toContain(health.ensemble.source);
    expect(health.uptimeSeconds).toBeGreaterThan(0);

    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    for (const name of [
      'affect_frames_received_total',
      'affect_frames_dropped_total',
      'affect_errors_total',
      'affect_sessions',
      'affect_tf_tensors',
      'affect_gpu_bytes',
    ]) {
      expect(metrics).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect((await fetch(`${server.httpUrl}/nope`)).status).toBe(404);
  });

  test('fer4 faces sent as JPEG: a result for every frame, labels agree with fer eval', async () => {
    const client = await StreamClient.connect(server.url, { client: 'fer4' });
    expect(client.welcome.backend).toBe('wasm');
    const served = await classify(client, fer4.jpegs, 8);
    expect(served).toHaveLength(fer4.jpegs.length);
    const k = engine.models.classes.length;
    // fer eval on the original pixels: JPEG re-encoding may flip a few borderline faces.
    const evalLabels = argmaxRows(await referenceProbs(engine.models, fer4.pixels), k);
    // fer's own decode of the same JPEGs: only rounding differs from the server's path.
    const decodedLabels = argmaxRows(await referenceProbs(engine.models, await gray48(fer4.jpegs)), k);
    const vsEval = agreement(served, evalLabels);
    const vsDecoded = agreement(served, decodedLabels);
    console.log(
      `[${transport}] fer4 test (${served.length} faces): agreement with fer eval ${(vsEval * 100).toFixed(1)}% ` +
        `on the original pixels, ${(vsDecoded * 100).toFixed(1)}% on the decoded JPEGs`,
    );
    expect(vsDecoded).toBeGreaterThanOrEqual(0.97);
    expect(vsEval).toBeGreaterThanOrEqual(0.85);
    await client.close();
  });

  test.skipIf(!ffmpeg)(
    'crops cut from franck.mp4 by ffmpeg: labels agree with fer eval on the same crops',
    async () => {
      const crops = videoCrops(24);
      expect(crops.length).toBe(24);
      const client = await StreamClient.connect(server.url, { client: 'video' });
      const served = await classify(client, crops, 4);
      const reference = argmaxRows(
        await referenceProbs(engine.models, await gray48(crops)),
        engine.models.classes.length,
      );
      const rate = agreement(served, reference);
      console.log(`[${transport}] franck.mp4 crops: agreement with fer eval ${(rate * 100).toFixed(1)}%`);
      expect(rate).toBeGreaterThanOrEqual(0.9);
      await client.close();
    },
  );

  test('per-model probabilities: the ones asked for, each a distribution, and the ensemble their weighted mean', async () => {
    // The members that run: a weight-0 one gets no probabilities (stream-ensemble.test.ts).
    const names = membersToRun(engine.models).map((m) => m.name);
    const client = await StreamClient.connect(server.url, { models: names.slice(0, 1) });
    expect(client.welcome.models).toEqual(names.slice(0, 1));
    const r = expectResult(await client.sendFrame([face(fer4.jpegs[3])]));
    const f = r.faces[0];
    expect(Object.keys(f.models)).toEqual(names.slice(0, 1));
    const sum = f.ensemble.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
    expect(f.confidence).toBe(Math.max(...f.ensemble));
    if (names.length === 1) expect(f.ensemble).toEqual(f.models[names[0]]);
    for (const key of ['queue', 'decode', 'preprocess', 'inference', 'total'] as const) {
      expect(r.timings[key]).toBeGreaterThanOrEqual(0);
    }
    expect(r.timings.total).toBeGreaterThanOrEqual(r.timings.inference);
    expect(r.batchSize).toBeGreaterThanOrEqual(1);
    await client.close();
  });

  test('concurrent clients get only their own results, in order, batched together', async () => {
    const clients = await Promise.all(
      [0, 1, 2, 3].map((c) => StreamClient.connect(server.url, { client: `c${c}` })),
    );
    const frames = 6;
    const batchSizes: number[] = [];
    await Promise.all(
      clients.map(async (client, c) => {
        for (let f = 0; f < frames; f++) {
          // The box says whose face it is: client c, frame f.
          const faces = [0, 1].map((j) => ({
            crop: fer4.jpegs[(c * 13 + f * 2 + j) % fer4.jpegs.length],
            box: { x: c, y: f, w: 10 + j, h: 10 },
          }));
          const r = expectResult(await client.sendFrame(faces, { frameId: 1000 * c + f }));
          expect(r.frameId).toBe(1000 * c + f);
          expect(r.faces.map((x) => x.box)).toEqual(faces.map((x) => x.box));
          batchSizes.push(r.batchSize);
        }
      }),
    );
    for (const client of clients) {
      const ids = client.received.filter((m) => m.type === 'result').map((m) => (m as ResultMessage).frameId);
      expect(ids).toEqual(ids.slice().sort((a, b) => a - b));
      expect(ids).toHaveLength(frames);
    }
    // Cross-session batching happened at least once: a batch held more than one client's faces.
    expect(Math.max(...batchSizes)).toBeGreaterThan(2);
    await Promise.all(clients.map((c) => c.close()));
  });

  test('overload: frames sent faster than processed are dropped oldest first and counted', async () => {
    const client = await StreamClient.connect(server.url, { client: 'flood' });
    const before = server.metrics.dropped.get({ reason: 'queue' });
    const sent = 40;
    const outcomes = await Promise.all(
      Array.from({ length: sent }, (_, i) =>
        client.sendFrame([face(fer4.jpegs[i % 20], i), face(fer4.jpegs[(i + 7) % 20], i)]),
      ),
    );
    const results = outcomes
      .filter((o) => o.kind === 'result')
      .map((o) => (o as { result: ResultMessage }).result);
    const reportedDrops = results.reduce((sum, r) => sum + r.dropped, 0);
    expect(outcomes.every((o) => o.kind !== 'error')).toBe(true);
    expect(reportedDrops).toBeGreaterThan(0);
    // Every frame is accounted for: it has a result or was reported dropped.
    expect(results.length + reportedDrops).toBe(sent);
    expect(outcomes.filter((o) => o.kind === 'dropped')).toHaveLength(reportedDrops);
    // Latest wins: the last frame sent always gets a result.
    expect(outcomes[sent - 1].kind).toBe('result');
    expect(server.metrics.dropped.get({ reason: 'queue' }) - before).toBe(reportedDrops);
    await client.close();
  });

  test('bad input gets an error for that client only; its session and the others keep working', async () => {
    const bystander = await StreamClient.connect(server.url, { client: 'bystander' });
    const client = await StreamClient.connect(server.url, { client: 'bad' });
    const nextError = () => client.next((m): m is Extract<typeof m, { type: 'error' }> => m.type === 'error');

    let err = nextError();
    await client.sendRaw(new Uint8Array([0xc1, 0xff, 0x00, 0x13]));
    expect((await err).code).toBe('bad-message');

    err = nextError();
    await client.sendRaw(
      encodeMessage({ type: 'frame', frameId: 5, capturedAt: 'yesterday', faces: [] } as never),
    );
    expect(await err).toMatchObject({ code: 'bad-field', frameId: 5 });

    err = nextError();
    await client.sendRaw(encodeMessage({ type: 'subscribe', topic: 'all' } as never));
    expect((await err).code).toBe('unknown-type');

    err = nextError();
    await client.sendRaw(encodeMessage({ type: '__proto__' } as never));
    expect((await err).code).toBe('unknown-type');

    const truncated = fer4.jpegs[0].subarray(0, fer4.jpegs[0].length >> 1);
    let o = await client.sendFrame([face(fer4.jpegs[1]), face(truncated, 1)], { frameId: 10 });
    expect(o).toMatchObject({ kind: 'error', error: { code: 'bad-image', frameId: 10 } });

    o = await client.sendFrame([face(new TextEncoder().encode('not an image at all'))], { frameId: 11 });
    expect(o).toMatchObject({ kind: 'error', error: { code: 'unsupported-image', frameId: 11 } });

    o = await client.sendFrame([face(new Uint8Array(0))], { frameId: 12 });
    expect(o).toMatchObject({ kind: 'error', error: { code: 'empty-crop', frameId: 12 } });

    // Still usable, and the bystander never saw any of it.
    expectResult(await client.sendFrame([face(fer4.jpegs[2])], { frameId: 13 }));
    expectResult(await bystander.sendFrame([face(fer4.jpegs[4])]));
    expect(bystander.received.filter((m) => m.type === 'error')).toHaveLength(0);
    expect(server.metrics.errors.get({ code: 'bad-image' })).toBeGreaterThanOrEqual(1);
    expect(server.metrics.errors.get({ code: 'unsupported-image' })).toBeGreaterThanOrEqual(1);
    await Promise.all([client.close(), bystander.close()]);
  });

  test('hello is checked: version mismatch and unknown models are refused, frames before hello too', async () => {
    await expect(StreamClient.connect(server.url, { version: 99 })).rejects.toMatchObject({
      error: { code: 'version-mismatch' },
    });
    const unknown = StreamClient.connect(server.url, { models: ['alexnet'] });
    await expect(unknown).rejects.toBeInstanceOf(HelloRejectedError);
    await expect(unknown).rejects.toMatchObject({ error: { code: 'unknown-model' } });

    // A raw socket that skips the hello: its frame is refused, the socket stays open.
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => ws.once('open', resolve));
    const reply = new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer)));
    ws.send(encodeMessage({ type: 'frame', frameId: 1, capturedAt: 0, faces: [] }));
    const { decodeServerMessage } = await import('@affect/protocol');
    expect(decodeServerMessage(new Uint8Array(await reply))).toMatchObject({
      ok: true,
      message: { type: 'error', code: 'bad-sequence', frameId: 1 },
    });
    ws.close();
  });
});

describe.skipIf(!ready).each(['uws', 'ws'] as const)('limits over %s', (transport) => {
  let server: StreamServer;
  beforeAll(async () => {
    const config = testConfig(transport, modelsDir!);
    config.limits = {
      ...config.limits,
      maxFps: 5,
      maxSessionsPerIp: 3,
      maxFacesPerFrame: 4,
      maxCropSide: 256,
      maxMessageBytes: 256 * 1024,
    };
    config.maxProtocolErrors = 5;
    server = await startStreamServer(config, { engine });
  });
  afterAll(() => server?.shutdown());

  test('message size, faces per frame, crop size: an error with a code, the session stays usable', async () => {
    const client = await StreamClient.connect(server.url);
    const big = await randomJpeg(600, 600, 1); // ~100+ KiB of noise
    const oversized = encodeMessage({
      type: 'frame',
      frameId: 1,
      capturedAt: 0,
      faces: [face(big), face(big)],
    });
    // Over the server's limit, under the transport's hard cap (4x): answered, not cut off.
    expect(oversized.byteLength).toBeGreaterThan(256 * 1024);
    expect(oversized.byteLength).toBeLessThan(1024 * 1024);
    const tooBig = client.next((m): m is Extract<typeof m, { type: 'error' }> => m.type === 'error');
    await client.sendRaw(oversized);
    expect((await tooBig).code).toBe('message-too-large');

    const faces5 = Array.from({ length: 5 }, (_, i) => face(fer4.jpegs[i], i));
    expect(await client.sendFrame(faces5, { frameId: 2 })).toMatchObject({
      kind: 'error',
      error: { code: 'too-many-faces' },
    });

    const wide = await randomJpeg(300, 40, 2);
    expect(await client.sendFrame([face(wide)], { frameId: 3 })).toMatchObject({
      kind: 'error',
      error: { code: 'crop-too-large', frameId: 3 },
    });
    const png = new Uint8Array(
      await (
        await import('sharp')
      )
        .default(Buffer.alloc(48 * 48 * 3, 128), { raw: { width: 48, height: 48, channels: 3 } })
        .png()
        .toBuffer(),
    );
    expect(await client.sendFrame([face(png)], { frameId: 4 })).toMatchObject({
      kind: 'error',
      error: { code: 'unsupported-image' },
    });

    expectResult(await client.sendFrame([face(fer4.jpegs[0])], { frameId: 5 }));
    await client.close();
  });

  test('a message over the transport cap (4x the limit) closes that connection, not the server', async () => {
    const client = await StreamClient.connect(server.url);
    await client.sendRaw(new Uint8Array(1024 * 1024 + 1));
    const closed = await client.closed;
    console.log(
      `[${transport}] over the transport cap: closed with ${closed.code} ${JSON.stringify(closed.reason)}`,
    );
    expect(closed.code).not.toBe(1000);
    const again = await StreamClient.connect(server.url);
    await again.close();
  });

  test('frames per second: frames over the rate get rate-limited errors, the rest results', async () => {
    const client = await StreamClient.connect(server.url);
    const outcomes: Promise<FrameOutcome>[] = [];
    for (let i = 0; i < 12; i++) {
      outcomes.push(client.sendFrame([face(fer4.jpegs[i])], { frameId: i }));
    }
    const all = await Promise.all(outcomes);
    const limited = all.filter((o) => o.kind === 'error' && o.error.code === 'rate-limited');
    expect(limited.length).toBeGreaterThanOrEqual(6); // a 5-frame burst, then ~5 per second
    expect(all.filter((o) => o.kind === 'result').length).toBeGreaterThanOrEqual(1);
    await client.close();
  });

  test('sessions per IP: the one over the limit is told why and closed', async () => {
    await until(() => server.health().sessions === 0); // the earlier tests' sessions are gone
    const clients = await Promise.all([0, 1, 2].map(() => StreamClient.connect(server.url)));
    const refused = StreamClient.connect(server.url);
    await expect(refused).rejects.toMatchObject({ error: { code: 'too-many-sessions' } });
    await clients[0].close();
    await until(() => server.health().sessions === 2);
    const again = await StreamClient.connect(server.url); // a slot freed up
    await Promise.all([...clients.slice(1), again].map((c) => c.close()));
  });

  test('a client that keeps sending garbage is closed with a reason', async () => {
    const client = await StreamClient.connect(server.url);
    for (let i = 0; i < 8; i++) await client.sendRaw(new Uint8Array([0xc1]));
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/too-many-errors/);
    expect(client.errors.at(-1)).toMatchObject({ code: 'too-many-errors', fatal: true });
  });
});

describe.skipIf(!ready).each(['uws', 'ws'] as const)('graceful shutdown over %s', (transport) => {
  test('finishes frames in flight, then closes every socket with 1001 and a reason', async () => {
    const server = await startStreamServer(testConfig(transport, modelsDir!), { engine });
    const clients = await Promise.all([0, 1].map(() => StreamClient.connect(server.url)));
    const inFlight = clients.map((c, i) => c.sendFrame([face(fer4.jpegs[i]), face(fer4.jpegs[i + 2], 1)]));
    // Shut down once both frames are in (frames arriving after that are refused instead).
    await until(() => server.metrics.framesReceived.get() === 2);
    const stopping = server.shutdown('test says stop');
    const outcomes = await Promise.all(inFlight);
    for (const o of outcomes) expectResult(o);
    await stopping;
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'test says stop' });
    await expect(StreamClient.connect(server.url, { timeoutMs: 2000 })).rejects.toThrow();
  });
});

describe.skipIf(!ready)('sessions in all', () => {
  test('the session over the server-wide limit is told why and closed, whatever its address', async () => {
    const config = testConfig('uws', modelsDir!);
    config.limits = { ...config.limits, maxSessionsPerIp: 10, maxSessions: 2 };
    const server = await startStreamServer(config, { engine });
    try {
      const clients = await Promise.all([0, 1].map(() => StreamClient.connect(server.url)));
      const refused = StreamClient.connect(server.url);
      await expect(refused).rejects.toMatchObject({
        error: {
          code: 'too-many-sessions',
          message: expect.stringMatching(/server already holds 2 sessions; the limit is 2/),
        },
      });
      expect(clients[0].welcome.limits.maxSessions).toBe(2);
      await clients[0].close();
      await until(() => server.health().sessions === 1);
      const again = await StreamClient.connect(server.url);
      await Promise.all([clients[1], again].map((c) => c.close()));
    } finally {
      await server.shutdown();
    }
  });
});
