// A Node client for the stream server: connect with a hello, send frames, get each frame's
// outcome as a promise. Used by the tests and the round-trip bench.
//
// Results come back in order per session, so when the result for frame k arrives, every
// earlier frame still waiting was dropped by the server (latest wins): those resolve as
// dropped instead of waiting forever.
import WebSocket from 'ws';
import {
  CLOSE_CODES,
  decodeServerMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  STREAM_PATH,
  type ErrorMessage,
  type FaceInput,
  type FrameMessage,
  type HelloMessage,
  type ResultMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '@affect/protocol';

export type FrameOutcome =
  | { kind: 'result'; result: ResultMessage; roundTripMs: number }
  | { kind: 'error'; error: ErrorMessage; roundTripMs: number }
  | { kind: 'dropped' };

export interface ConnectOptions {
  /** Sent in the hello; default 'affect-client'. */
  client?: string;
  /** Models to get per-model probabilities for; default all. */
  models?: string[];
  /** Override the hello's version (tests of the version check). */
  version?: number;
  /** Give up on the welcome after this long; default 30 s. */
  timeoutMs?: number;
}

export interface Closed {
  code: number;
  reason: string;
}

/** Thrown by connect() when the server answers the hello with an error. */
export class HelloRejectedError extends Error {
  constructor(readonly error: ErrorMessage) {
    super(`server rejected the hello: ${error.code}: ${error.message}`);
    this.name = 'HelloRejectedError';
  }
}

interface Pending {
  sentAt: number;
  resolve: (outcome: FrameOutcome) => void;
}

export class StreamClient {
  /** Every message received, in order (results, errors, the welcome). */
  readonly received: ServerMessage[] = [];
  /** Errors not tied to a waiting frame. */
  readonly errors: ErrorMessage[] = [];
  readonly closed: Promise<Closed>;
  private readonly pending = new Map<number, Pending>();
  private nextFrameId = 0;
  private listeners = new Set<(message: ServerMessage) => void>();

  private constructor(
    readonly socket: WebSocket,
    readonly welcome: WelcomeMessage,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        // Nothing more will come: whatever still waits was never answered.
        for (const [, p] of this.pending) p.resolve({ kind: 'dropped' });
        this.pending.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    socket.on('message', (data) => this.onMessage(toBytes(data)));
  }

  /** Opens a session: connects, sends hello, waits for the welcome. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<StreamClient> {
    const wsUrl = url.endsWith(STREAM_PATH) ? url : `${url.replace(/\/$/, '')}${STREAM_PATH}`;
    const socket = new WebSocket(wsUrl, { maxPayload: 64 * 1024 * 1024 });
    const timeoutMs = options.timeoutMs ?? 30_000;
    const welcome = await new Promise<WelcomeMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no welcome from ${wsUrl} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.removeAllListeners('message');
        fn();
      };
      socket.once('error', (err) => done(() => reject(err)));
      socket.once('close', (code, reason) =>
        done(() => reject(new Error(`closed before the welcome: ${code} ${reason.toString()}`))),
      );
      socket.on('message', (data) => {
        const decoded = decodeServerMessage(toBytes(data));
        if (!decoded.ok)
          return done(() => reject(new Error(`bad message from server: ${decoded.error.message}`)));
        const m = decoded.message;
        if (m.type === 'welcome') done(() => resolve(m));
        else if (m.type === 'error') done(() => reject(new HelloRejectedError(m)));
      });
      socket.once('open', () => {
        const hello: HelloMessage = {
          type: 'hello',
          version: options.version ?? PROTOCOL_VERSION,
          client: options.client ?? 'affect-client',
          ...(options.models ? { models: options.models } : {}),
        };
        socket.send(encodeMessage(hello));
      });
    });
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.on('error', () => {}); // surfaced through `closed`
    return new StreamClient(socket, welcome);
  }

  /** Sends one frame; resolves with its result, its error, or 'dropped'. */
  sendFrame(
    faces: FaceInput[],
    options: { frameId?: number; capturedAt?: number } = {},
  ): Promise<FrameOutcome> {
    const frameId = options.frameId ?? this.nextFrameId;
    this.nextFrameId = frameId + 1;
    const message: FrameMessage = {
      type: 'frame',
      frameId,
      capturedAt: options.capturedAt ?? Date.now(),
      faces,
    };
    return this.sendRaw(encodeMessage(message), frameId);
  }

  /**
   * Sends bytes as they are (for tests of malformed input). With a frameId, resolves like
   * sendFrame; without, resolves at once.
   */
  sendRaw(bytes: Uint8Array, frameId?: number): Promise<FrameOutcome> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.resolve({ kind: 'dropped' });
    const outcome =
      frameId === undefined
        ? Promise.resolve<FrameOutcome>({ kind: 'dropped' })
        : new Promise<FrameOutcome>((resolve) =>
            this.pending.set(frameId, { sentAt: performance.now(), resolve }),
          );
    this.socket.send(bytes);
    return outcome;
  }

  /** The next message that satisfies `match` (already received ones are not considered). */
  next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (m: ServerMessage) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(m);
      };
      this.listeners.add(listener);
    });
  }

  /** Frames sent and not yet answered. */
  get waiting(): number {
    return this.pending.size;
  }

  async close(code: number = CLOSE_CODES.normal, reason = 'client done'): Promise<Closed> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, reason);
    }
    return this.closed;
  }

  private onMessage(bytes: Uint8Array): void {
    const decoded = decodeServerMessage(bytes);
    if (!decoded.ok) {
      this.errors.push({ type: 'error', code: 'bad-message', message: `client: ${decoded.error.message}` });
      return;
    }
    const m = decoded.message;
    this.received.push(m);
    if (m.type === 'result') this.settle(m.frameId, { kind: 'result', result: m, roundTripMs: 0 }, true);
    else if (m.type === 'error') {
      if (m.frameId === undefined || !this.pending.has(m.frameId)) this.errors.push(m);
      else this.settle(m.frameId, { kind: 'error', error: m, roundTripMs: 0 }, false);
    }
    for (const listener of [...this.listeners]) listener(m);
  }

  /**
   * Results come in frame order, so a result settles every earlier frame still waiting as
   * dropped. Errors don't: a rejected frame (rate limit, bad field) is answered on arrival,
   * ahead of earlier frames still being processed.
   */
  private settle(frameId: number, outcome: FrameOutcome, inOrder: boolean): void {
    const p = this.pending.get(frameId);
    if (!p) return;
    this.pending.delete(frameId);
    if (outcome.kind !== 'dropped') outcome.roundTripMs = performance.now() - p.sentAt;
    if (inOrder) {
      for (const [id, earlier] of this.pending) {
        if (earlier.sentAt <= p.sentAt) {
          this.pending.delete(id);
          earlier.resolve({ kind: 'dropped' });
        }
      }
    }
    p.resolve(outcome);
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
