// One client connection: hello/welcome, validation and limits on every frame, the bounded
// queue that drops the oldest waiting frame when frames come faster than they are
// processed (latest wins), and the outbox that carries results back.
import {
  CLOSE_CODES,
  decodeClientMessage,
  PROTOCOL_VERSION,
  type ErrorCode,
  type ErrorMessage,
  type FrameMessage,
  type HelloMessage,
  type ResultMessage,
  type WelcomeMessage,
} from '@affect/protocol';
import type { FrameSource, QueuedFrame } from './batcher.ts';
import type { ServerConfig } from './config.ts';
import type { ServerMetrics } from './metrics.ts';
import { Outbox } from './outbox.ts';
import type { Connection, ConnectionHandlers } from './transport/types.ts';

/** What a session needs from its server. */
export interface SessionHost {
  readonly config: ServerConfig;
  readonly metrics: ServerMetrics;
  readonly shuttingDown: boolean;
  /**
   * The welcome for a session that asked for these (loaded) models; its `models` are those
   * of them the server runs, the ones the session will get probabilities for.
   */
  welcome(sessionId: string, models: string[]): WelcomeMessage;
  /** Names of the loaded models. */
  modelNames(): string[];
  enqueued(session: Session): void;
  closed(session: Session): void;
}

/** Token bucket: `rate` frames per second sustained, bursts up to one second's worth. */
class RateLimit {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class Session implements FrameSource, ConnectionHandlers {
  state: 'hello' | 'open' | 'closed' = 'hello';
  wantedModels: ReadonlySet<string> = new Set();
  private readonly queue: QueuedFrame[] = [];
  private droppedUnreported = 0;
  private protocolErrors = 0;
  private readonly rate: RateLimit;
  readonly outbox: Outbox;

  constructor(
    readonly id: string,
    readonly conn: Connection,
    private readonly host: SessionHost,
  ) {
    const { send, limits } = host.config;
    this.rate = new RateLimit(limits.maxFps);
    this.outbox = new Outbox(conn, send.maxQueued, send.highWaterBytes, (n) =>
      host.metrics.lostMessages.inc({}, n),
    );
  }

  // ── ConnectionHandlers ────────────────────────────────────────────────────────────────

  message(data: Uint8Array): void {
    if (this.state === 'closed') return;
    const { limits } = this.host.config;
    if (data.byteLength > limits.maxMessageBytes) {
      this.error(
        'message-too-large',
        `the message is ${data.byteLength} bytes; the limit is ${limits.maxMessageBytes}`,
      );
      return;
    }
    const decoded = decodeClientMessage(data);
    if (!decoded.ok) {
      if (decoded.error.frameId !== undefined) this.host.metrics.framesReceived.inc();
      this.protocolError(decoded.error.code, decoded.error.message, decoded.error.frameId);
      return;
    }
    const m = decoded.message;
    if (m.type === 'hello') this.onHello(m);
    else this.onFrame(m);
  }

  drain(): void {
    this.outbox.flush();
  }

  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.queue.length) this.host.metrics.dropped.inc({ reason: 'closed' }, this.queue.length);
    this.queue.length = 0;
    this.host.closed(this);
  }

  // ── FrameSource ───────────────────────────────────────────────────────────────────────

  peek(): QueuedFrame | undefined {
    return this.queue[0];
  }

  take(): QueuedFrame | undefined {
    return this.queue.shift();
  }

  deliver(outcome: ResultMessage | ErrorMessage): void {
    if (this.state === 'closed') return;
    if (outcome.type === 'error') {
      this.send(outcome);
      return;
    }
    outcome.dropped = this.droppedUnreported;
    this.droppedUnreported = 0;
    this.host.metrics.framesProcessed.inc();
    this.host.metrics.faces.inc({}, outcome.faces.length);
    this.host.metrics.latency.observe(outcome.timings.total / 1000);
    this.outbox.push(outcome);
  }

  // ── the protocol ──────────────────────────────────────────────────────────────────────

  /** Sends an error; fatal ones close the session after it. */
  error(code: ErrorCode, message: string, frameId?: number, fatal = false): void {
    this.send({
      type: 'error',
      code,
      message,
      ...(frameId !== undefined ? { frameId } : {}),
      ...(fatal ? { fatal } : {}),
    });
    if (fatal) this.close(CLOSE_CODES.policy, `${code}: ${message}`);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.conn.close(code, reason);
  }

  private send(message: ErrorMessage | WelcomeMessage): void {
    if (message.type === 'error') this.host.metrics.errors.inc({ code: message.code });
    this.outbox.push(message);
  }

  private protocolError(code: ErrorCode, message: string, frameId?: number): void {
    this.protocolErrors++;
    if (this.protocolErrors > this.host.config.maxProtocolErrors) {
      this.error(
        'too-many-errors',
        `more than ${this.host.config.maxProtocolErrors} invalid messages; closing`,
        undefined,
        true,
      );
      return;
    }
    this.error(code, message, frameId);
  }

  private onHello(m: HelloMessage): void {
    if (this.state !== 'hello') {
      this.protocolError('bad-sequence', 'hello was already accepted for this session');
      return;
    }
    if (m.version !== PROTOCOL_VERSION) {
      // The session stays in 'hello': a client that speaks several versions may try again.
      this.error(
        'version-mismatch',
        `this server speaks protocol version ${PROTOCOL_VERSION}, the client sent ${m.version}`,
      );
      return;
    }
    const loaded = this.host.modelNames();
    const unknown = (m.models ?? []).filter((name) => !loaded.includes(name));
    if (unknown.length) {
      this.error(
        'unknown-model',
        `unknown or not loaded: ${unknown.join(', ')}; loaded models: ${loaded.join(', ')}`,
      );
      return;
    }
    const welcome = this.host.welcome(this.id, m.models ?? loaded);
    this.wantedModels = new Set(welcome.models);
    this.state = 'open';
    this.host.config.log(`[session ${this.id}] hello from ${JSON.stringify(m.client)} at ${this.conn.ip}`);
    this.send(welcome);
  }

  private onFrame(m: FrameMessage): void {
    const { limits } = this.host.config;
    const { frameId } = m;
    this.host.metrics.framesReceived.inc();
    if (this.state !== 'open') {
      this.protocolError('bad-sequence', 'send hello and wait for welcome before frames', frameId);
      return;
    }
    if (this.host.shuttingDown) {
      this.error('shutting-down', 'the server is shutting down; the frame was not processed', frameId);
      return;
    }
    if (m.faces.length > limits.maxFacesPerFrame) {
      this.error(
        'too-many-faces',
        `${m.faces.length} faces; at most ${limits.maxFacesPerFrame} per frame`,
        frameId,
      );
      return;
    }
    const empty = m.faces.findIndex((f) => f.crop.byteLength === 0);
    if (empty >= 0) {
      this.error('empty-crop', `face ${empty} has an empty crop (0 bytes)`, frameId);
      return;
    }
    if (!this.rate.take()) {
      this.error(
        'rate-limited',
        `over ${limits.maxFps} frames per second; the frame was not processed`,
        frameId,
      );
      return;
    }
    if (this.queue.length >= limits.queueFrames) {
      // Latest wins: the oldest waiting frame is the least useful one now.
      this.queue.shift();
      this.droppedUnreported++;
      this.host.metrics.dropped.inc({ reason: 'queue' });
    }
    this.queue.push({ frame: m, arrivedAt: performance.now() });
    this.host.enqueued(this);
  }
}
