// One streaming session with the stream server, kept alive: connect, hello, welcome, frames
// and results, and on any loss a reconnection after an exponential, jittered backoff (reset
// by each welcome). Every message is built and checked by @affect/protocol.
import {
  decodeServerMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  type ErrorMessage,
  type FrameMessage,
  type ResultMessage,
  type WelcomeMessage,
} from '@affect/protocol';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';

/** The part of the browser's WebSocket this class uses (the `ws` package's has it too). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open'; welcome: WelcomeMessage }
  | { kind: 'waiting'; attempt: number; retryAt: number; reason: string }
  | { kind: 'stopped'; reason: string };

export interface ConnectionEvents {
  state(state: ConnectionState): void;
  result(result: ResultMessage): void;
  /** An error message from the server (about a frame, or the session). */
  error(error: ErrorMessage): void;
}

export interface ConnectionOptions {
  /** Free text for the server's logs. */
  client: string;
  backoff: BackoffOptions;
  /** Give up on a welcome after this long and reconnect. */
  welcomeTimeoutMs: number;
  /** Don't send while the socket holds more than this many unsent bytes (latest frame wins). */
  maxBufferedBytes: number;
}

export const DEFAULT_CONNECTION: ConnectionOptions = {
  client: 'affect-web 0.1',
  backoff: DEFAULT_BACKOFF,
  welcomeTimeoutMs: 10_000,
  maxBufferedBytes: 512 * 1024,
};

export interface ConnectionDeps {
  createSocket(url: string): SocketLike;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
}

export function browserDeps(): ConnectionDeps {
  return {
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    now: () => performance.now(),
    random: Math.random,
  };
}

/** Server errors after which reconnecting is pointless: the page itself must change. */
const TERMINAL_CODES = new Set(['version-mismatch', 'unknown-model']);

export class StreamConnection {
  private socket: SocketLike | undefined;
  private timer: unknown;
  private attempt = 0;
  private current: ConnectionState = { kind: 'idle' };

  constructor(
    readonly url: string,
    private readonly events: ConnectionEvents,
    private readonly options: ConnectionOptions = DEFAULT_CONNECTION,
    private readonly deps: ConnectionDeps = browserDeps(),
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  get welcome(): WelcomeMessage | undefined {
    return this.current.kind === 'open' ? this.current.welcome : undefined;
  }

  start(): void {
    if (this.current.kind !== 'idle' && this.current.kind !== 'stopped') return;
    this.attempt = 0;
    this.connect();
  }

  stop(reason = 'stopped'): void {
    this.clearTimer();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      this.detach(socket);
      socket.close(1000, 'client done');
    }
    this.setState({ kind: 'stopped', reason });
  }

  /**
   * Sends a frame if the session is open and the socket is not backed up. Returns whether it
   * went out; a frame that didn't is simply not sent (a newer one will be).
   */
  sendFrame(frame: Omit<FrameMessage, 'type'>): boolean {
    const socket = this.socket;
    if (this.current.kind !== 'open' || !socket || socket.readyState !== OPEN) return false;
    if (socket.bufferedAmount > this.options.maxBufferedBytes) return false;
    socket.send(encodeMessage({ type: 'frame', ...frame }));
    return true;
  }

  private connect(): void {
    this.setState({ kind: 'connecting', attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(this.url);
    } catch (err) {
      // A malformed URL throws synchronously; retrying cannot fix it.
      this.setState({ kind: 'stopped', reason: `bad server URL ${this.url}: ${(err as Error).message}` });
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    this.timer = this.deps.setTimeout(
      () => this.lost(socket, `no welcome within ${this.options.welcomeTimeoutMs} ms`),
      this.options.welcomeTimeoutMs,
    );
    socket.onopen = () => {
      socket.send(encodeMessage({ type: 'hello', version: PROTOCOL_VERSION, client: this.options.client }));
    };
    socket.onmessage = (ev) => this.onMessage(socket, ev.data);
    socket.onerror = () => {}; // always followed by close, which says more
    socket.onclose = (ev) =>
      this.lost(
        socket,
        ev.code === 1006 ? 'connection failed or cut' : `closed ${ev.code} ${ev.reason}`.trim(),
      );
  }

  private onMessage(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return; // text is not part of the protocol
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const decoded = decodeServerMessage(bytes);
    if (!decoded.ok) {
      this.events.error({
        type: 'error',
        code: decoded.error.code,
        message: `from server: ${decoded.error.message}`,
      });
      return;
    }
    const m = decoded.message;
    if (m.type === 'welcome') {
      this.clearTimer();
      this.attempt = 0;
      this.setState({ kind: 'open', welcome: m });
    } else if (m.type === 'result') {
      this.events.result(m);
    } else {
      this.events.error(m);
      if (TERMINAL_CODES.has(m.code) && this.current.kind !== 'open') {
        this.stop(`${m.code}: ${m.message}`);
      }
    }
  }

  private lost(socket: SocketLike, reason: string): void {
    if (socket !== this.socket) return;
    this.clearTimer();
    this.detach(socket);
    this.socket = undefined;
    if (socket.readyState === OPEN || socket.readyState === 0) socket.close(1000, 'reconnecting');
    const delay = backoffDelay(this.attempt, this.options.backoff, this.deps.random);
    this.attempt++;
    this.setState({ kind: 'waiting', attempt: this.attempt, retryAt: this.deps.now() + delay, reason });
    this.timer = this.deps.setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private detach(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.deps.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.events.state(state);
  }
}
