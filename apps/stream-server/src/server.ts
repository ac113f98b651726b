// The stream server: a transport (uWS or ws), sessions, one batcher over one engine,
// /healthz and /metrics. An object per server, so tests can run several in one process.
import { randomUUID } from 'node:crypto';
import { CLOSE_CODES, PROTOCOL_VERSION, STREAM_PATH, type WelcomeMessage } from '@affect/protocol';
import { formatAdapter } from '@affect/gpu';
import { Batcher } from './batcher.ts';
import { checkConfig, type ServerConfig } from './config.ts';
import { createEngine, type Engine } from './engine.ts';
import { membersToRun } from './models.ts';
import { serverMetrics, type ServerMetrics } from './metrics.ts';
import { Session, type SessionHost } from './session.ts';
import type { Connection, HttpReply, RunningTransport, TransportHandlers } from './transport/types.ts';
import { startUwsTransport } from './transport/uws.ts';
import { startWsTransport } from './transport/ws.ts';

export interface Health {
  status: 'ok' | 'shutting-down';
  uptimeSeconds: number;
  transport: { name: string; implementation: string };
  adapter: string | null;
  backend: Engine['backend'];
  preprocess: Engine['preprocess'];
  reason: string;
  classes: string[];
  models: Array<{ name: string; weight: number }>;
  ensemble: WelcomeMessage['ensemble'];
  sessions: number;
  protocolVersion: number;
}

export interface StreamServer {
  readonly config: ServerConfig;
  readonly engine: Engine;
  readonly transport: RunningTransport;
  readonly metrics: ServerMetrics;
  /** ws://host:port/ws */
  readonly url: string;
  /** http://host:port */
  readonly httpUrl: string;
  health(): Health;
  /** Stop accepting, finish queued and in-flight frames, close every socket with a reason. */
  shutdown(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** Use this engine instead of creating one (it is then not disposed on shutdown). */
  engine?: Engine;
}

export async function startStreamServer(
  config: ServerConfig,
  options: StartOptions = {},
): Promise<StreamServer> {
  checkConfig(config);
  const startedAt = performance.now();
  const engine =
    options.engine ??
    (await createEngine({
      backend: config.backend,
      modelsDir: config.modelsDir,
      tta: config.tta,
      allModels: config.allModels,
      log: config.log,
    }));
  const ownsEngine = !options.engine;
  const sessions = new Set<Session>();
  const perIp = new Map<string, number>();
  let shuttingDown = false;

  const metrics = serverMetrics({
    sessions: () => sessions.size,
    memory: () => engine.memory(),
    uptimeSeconds: () => (performance.now() - startedAt) / 1000,
  });
  const batcher = new Batcher(engine, config.batch, config.limits.maxCropSide, metrics);
  const { models } = engine;
  const modelNames = models.members.map((m) => m.name);
  const runNames = new Set(membersToRun(models).map((m) => m.name));

  const host: SessionHost = {
    config,
    metrics,
    get shuttingDown() {
      return shuttingDown;
    },
    welcome: (sessionId, wanted) => ({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      sessionId,
      classes: models.classes,
      ensemble: models.ensemble,
      // A weight-0 member is not run (unless --all-models), so it has no probabilities to
      // offer: left out here.
      models: wanted.filter((name) => runNames.has(name)),
      backend: engine.backend,
      limits: config.limits,
    }),
    modelNames: () => modelNames,
    enqueued: (session) => batcher.wake(session),
    closed: (session) => {
      sessions.delete(session);
      batcher.forget(session);
      const n = (perIp.get(session.conn.ip) ?? 1) - 1;
      if (n > 0) perIp.set(session.conn.ip, n);
      else perIp.delete(session.conn.ip);
    },
  };

  let transport!: RunningTransport;
  const health = (): Health => ({
    status: shuttingDown ? 'shutting-down' : 'ok',
    uptimeSeconds: Math.round(performance.now() - startedAt) / 1000,
    transport: { name: transport.name, implementation: transport.implementation },
    adapter: engine.adapter ? formatAdapter(engine.adapter) : null,
    backend: engine.backend,
    preprocess: engine.preprocess,
    reason: engine.reason,
    classes: models.classes,
    models: models.ensemble.members,
    ensemble: models.ensemble,
    sessions: sessions.size,
    protocolVersion: PROTOCOL_VERSION,
  });

  const handlers: TransportHandlers = {
    open(conn: Connection) {
      const session = new Session(randomUUID(), conn, host);
      sessions.add(session);
      const n = (perIp.get(conn.ip) ?? 0) + 1;
      perIp.set(conn.ip, n);
      metrics.sessionsOpened.inc();
      // Refused after open returns: uWS runs the close handler inside end(), and the
      // transport only knows this session's handlers once open has returned them.
      if (shuttingDown) {
        setImmediate(() => session.error('shutting-down', 'the server is shutting down', undefined, true));
      } else if (sessions.size > config.limits.maxSessions) {
        const message = `the server already holds ${sessions.size - 1} sessions; the limit is ${config.limits.maxSessions}`;
        setImmediate(() => session.error('too-many-sessions', message, undefined, true));
      } else if (n > config.limits.maxSessionsPerIp) {
        const message = `${conn.ip} already has ${n - 1} sessions; the limit is ${config.limits.maxSessionsPerIp}`;
        setImmediate(() => session.error('too-many-sessions', message, undefined, true));
      }
      return session;
    },
    http(path): HttpReply | undefined {
      if (path === '/healthz') {
        return {
          status: shuttingDown ? 503 : 200,
          contentType: 'application/json',
          body: `${JSON.stringify(health())}\n`,
        };
      }
      if (path === '/metrics') {
        return { status: 200, contentType: 'text/plain; version=0.0.4', body: metrics.registry.render() };
      }
      return undefined;
    },
  };

  const transportOptions = {
    host: config.host,
    port: config.port,
    path: STREAM_PATH,
    maxPayloadBytes: config.limits.maxMessageBytes * 4,
    highWaterBytes: config.send.highWaterBytes,
  };
  try {
    transport =
      config.transport === 'uws'
        ? await startUwsTransport(transportOptions, handlers)
        : await startWsTransport(transportOptions, handlers);
  } catch (err) {
    if (ownsEngine) engine.dispose();
    throw err;
  }

  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  let shutdown: Promise<void> | undefined;
  return {
    config,
    engine,
    transport,
    metrics,
    url: `ws://${hostForUrl}:${transport.port}${STREAM_PATH}`,
    httpUrl: `http://${hostForUrl}:${transport.port}`,
    health,
    shutdown(reason = 'server shutting down') {
      shutdown ??= (async () => {
        shuttingDown = true;
        transport.stopListening();
        const grace = new Promise<'timeout'>((resolve) =>
          setTimeout(() => resolve('timeout'), config.shutdownGraceMs).unref(),
        );
        const finished = await Promise.race([batcher.whenIdle().then(() => 'idle' as const), grace]);
        if (finished === 'timeout')
          config.log(
            `[server] in-flight frames still running after ${config.shutdownGraceMs} ms; closing anyway`,
          );
        for (const session of sessions) {
          session.outbox.flush();
          session.close(CLOSE_CODES.goingAway, reason);
        }
        // Let the close frames go out before the sockets are torn down.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await transport.close();
        if (ownsEngine) engine.dispose();
      })();
      return shutdown;
    },
  };
}
