import { describe, expect, test } from 'vitest';
import {
  decodeClientMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  type ResultMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '@affect/protocol';
import {
  DEFAULT_CONNECTION,
  StreamConnection,
  type ConnectionDeps,
  type ConnectionState,
  type SocketLike,
} from './connection.ts';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { seeded } from '../testing.ts';

class FakeSocket implements SocketLike {
  binaryType = 'blob';
  readyState = 0;
  bufferedAmount = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: Uint8Array[] = [];
  closedWith: number | undefined;

  constructor(readonly url: string) {}
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  // server side
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(m: ServerMessage): void {
    const bytes = encodeMessage(m);
    // As the browser hands it over with binaryType 'arraybuffer'.
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** A manual clock: timers run only when the test advances time. */
function harness(seed = 1) {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const sockets: FakeSocket[] = [];
  const deps: ConnectionDeps = {
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    now: () => now,
    random: seeded(seed),
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = until;
  };
  return { deps, sockets, advance, time: () => now };
}

const welcome: WelcomeMessage = {
  type: 'welcome',
  version: PROTOCOL_VERSION,
  sessionId: 's1',
  classes: ['happy', 'sad', 'surprise', 'neutral'],
  ensemble: { members: [{ name: 'cnn', weight: 1 }], source: 'equal-weights', tta: false },
  models: ['cnn'],
  backend: 'wasm',
  limits: {
    maxMessageBytes: 2 << 20,
    maxFacesPerFrame: 16,
    maxCropSide: 1024,
    maxFps: 60,
    maxSessionsPerIp: 16,
    maxSessions: 256,
    queueFrames: 2,
  },
};

function result(frameId: number): ResultMessage {
  return {
    type: 'result',
    frameId,
    capturedAt: 5,
    faces: [],
    timings: { queue: 1, decode: 1, preprocess: 1, inference: 5, total: 8 },
    batchSize: 1,
    dropped: 0,
    lostMessages: 0,
  };
}

function connection(h: ReturnType<typeof harness>) {
  const states: ConnectionState[] = [];
  const results: ResultMessage[] = [];
  const errors: string[] = [];
  const c = new StreamConnection(
    'ws://127.0.0.1:8787/ws',
    { state: (s) => states.push(s), result: (r) => results.push(r), error: (e) => errors.push(e.code) },
    DEFAULT_CONNECTION,
    h.deps,
  );
  return { c, states, results, errors };
}

describe('StreamConnection', () => {
  test('sends a hello with the protocol version, opens on welcome, then sends frames and gets results', () => {
    const h = harness();
    const { c, states, results } = connection(h);
    c.start();
    const s = h.sockets[0];
    expect(s.binaryType).toBe('arraybuffer');
    expect(c.sendFrame({ frameId: 0, capturedAt: 1, faces: [] })).toBe(false); // not open yet
    s.open();
    const hello = decodeClientMessage(s.sent[0]);
    expect(hello.ok && hello.message).toMatchObject({ type: 'hello', version: PROTOCOL_VERSION });
    s.deliver(welcome);
    expect(states.at(-1)).toEqual({ kind: 'open', welcome });
    const crop = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
    expect(
      c.sendFrame({ frameId: 7, capturedAt: 1, faces: [{ crop, box: { x: 1, y: 2, w: 3, h: 4 } }] }),
    ).toBe(true);
    const frame = decodeClientMessage(s.sent[1]);
    expect(frame.ok && frame.message).toMatchObject({
      type: 'frame',
      frameId: 7,
      faces: [{ box: { x: 1, y: 2, w: 3, h: 4 } }],
    });
    expect(frame.ok && frame.message.type === 'frame' && [...frame.message.faces[0].crop]).toEqual([...crop]);
    s.deliver(result(7));
    expect(results.map((r) => r.frameId)).toEqual([7]);
  });

  test('reconnects after losses with growing, capped, jittered delays, and resets them after a welcome', () => {
    const h = harness(42);
    const { c, states } = connection(h);
    c.start();
    const expected = seeded(42);
    for (let attempt = 0; attempt < 8; attempt++) {
      h.sockets.at(-1)!.drop();
      const waiting = states.at(-1);
      expect(waiting?.kind).toBe('waiting');
      const delay = backoffDelay(attempt, DEFAULT_BACKOFF, expected);
      const base = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.initialMs * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(base * 0.8 - 1);
      expect(delay).toBeLessThanOrEqual(base * 1.2 + 1);
      expect(waiting?.kind === 'waiting' && waiting.retryAt).toBe(h.time() + delay);
      const before = h.sockets.length;
      h.advance(delay - 1);
      expect(h.sockets.length).toBe(before); // not a millisecond early
      h.advance(1);
      expect(h.sockets.length).toBe(before + 1);
    }
    // A welcome resets the schedule: the next loss waits about initialMs again.
    const s = h.sockets.at(-1)!;
    s.open();
    s.deliver(welcome);
    s.drop(1001, 'server stopping (SIGTERM)');
    const w = states.at(-1);
    expect(w).toMatchObject({ kind: 'waiting', reason: 'closed 1001 server stopping (SIGTERM)' });
    expect(w?.kind === 'waiting' && w.retryAt - h.time()).toBeLessThanOrEqual(
      DEFAULT_BACKOFF.initialMs * 1.2 + 1,
    );
  });

  test('a server that accepts the connection but never welcomes is dropped and retried', () => {
    const h = harness();
    const { c, states } = connection(h);
    c.start();
    h.sockets[0].open();
    h.advance(DEFAULT_CONNECTION.welcomeTimeoutMs);
    expect(h.sockets[0].closedWith).toBe(1000);
    expect(states.at(-1)).toMatchObject({ kind: 'waiting', reason: /no welcome/ });
  });

  test('a version mismatch stops reconnecting: only a new page can fix it', () => {
    const h = harness();
    const { c, states, errors } = connection(h);
    c.start();
    h.sockets[0].open();
    h.sockets[0].deliver({ type: 'error', code: 'version-mismatch', message: 'server speaks 2' });
    expect(errors).toEqual(['version-mismatch']);
    expect(states.at(-1)).toEqual({ kind: 'stopped', reason: 'version-mismatch: server speaks 2' });
    h.advance(60_000);
    expect(h.sockets).toHaveLength(1);
  });

  test('stop() closes the session and cancels a pending retry; frames are refused after it', () => {
    const h = harness();
    const { c } = connection(h);
    c.start();
    h.sockets[0].drop();
    c.stop();
    h.advance(60_000);
    expect(h.sockets).toHaveLength(1);
    expect(c.sendFrame({ frameId: 1, capturedAt: 0, faces: [] })).toBe(false);
  });

  test('a backed-up socket refuses frames instead of queueing them', () => {
    const h = harness();
    const { c } = connection(h);
    c.start();
    const s = h.sockets[0];
    s.open();
    s.deliver(welcome);
    s.bufferedAmount = DEFAULT_CONNECTION.maxBufferedBytes + 1;
    expect(c.sendFrame({ frameId: 1, capturedAt: 0, faces: [] })).toBe(false);
    s.bufferedAmount = 0;
    expect(c.sendFrame({ frameId: 2, capturedAt: 0, faces: [] })).toBe(true);
  });

  test('malformed server bytes surface as an error, not an exception', () => {
    const h = harness();
    const { c, errors } = connection(h);
    c.start();
    const s = h.sockets[0];
    s.open();
    s.onmessage?.({ data: new Uint8Array([0xc1]).buffer });
    expect(errors).toEqual(['bad-message']);
  });
});
