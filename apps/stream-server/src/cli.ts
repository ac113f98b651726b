// The server's command line: options → ServerConfig, and the start-up lines it prints.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DEFAULT_MODELS_DIR } from '@affect/fer';
import { defaultConfig, type BackendChoice, type ServerConfig, type TransportName } from './config.ts';
import type { StreamServer } from './server.ts';

export const HELP = `usage: stream-server [options]

  --host <addr>            listen address (default $STREAM_HOST or 127.0.0.1)
  --port <n>               listen port (default $STREAM_PORT or 8787; 0 picks one)
  --transport uws|ws       uWebSockets.js (default) or the ws package
  --backend auto|wasm|webgpu
                           auto: WebGPU on a hardware adapter, tfjs wasm on a software one
  --models-dir <dir>       shipped models (default models/)
  --no-tta                 skip the ensemble's flip test-time augmentation: half the
                           inference per face for a little accuracy (a CPU server's choice)
  --all-models             also run the models the ensemble weighs 0, so sessions get their
                           probabilities too (one more forward pass per face for each)
  --batch-window-ms <ms>   how long a batch waits for more faces (default 4)
  --max-batch <n>          faces per batch (default 32)
  --max-fps <n>            frames per second per session (default 60)
  --queue-frames <n>       frames waiting per session before the oldest is dropped (default 2)
  --max-sessions-per-ip <n> (default 16)
  --max-sessions <n>    sessions from all addresses together (default 256)

GET /healthz (JSON) and /metrics (Prometheus) on the same port; the stream is at /ws.`;

function positive(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(
      `${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'} (got '${value}')`,
    );
  }
  return n;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`${name} must be one of ${allowed.join(', ')} (got '${value}')`);
  return value as T;
}

export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      transport: { type: 'string' },
      backend: { type: 'string' },
      'models-dir': { type: 'string' },
      'no-tta': { type: 'boolean' },
      'all-models': { type: 'boolean' },
      'batch-window-ms': { type: 'string' },
      'max-batch': { type: 'string' },
      'max-fps': { type: 'string' },
      'queue-frames': { type: 'string' },
      'max-sessions-per-ip': { type: 'string' },
      'max-sessions': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const config = defaultConfig(values['models-dir'] ? resolve(values['models-dir']) : DEFAULT_MODELS_DIR);
  config.host = values.host ?? env.STREAM_HOST ?? config.host;
  if (values['no-tta']) config.tta = false;
  if (values['all-models']) config.allModels = true;
  config.port = positive('--port', values.port ?? env.STREAM_PORT, config.port);
  config.transport = oneOf<TransportName>('--transport', values.transport, ['uws', 'ws'], config.transport);
  config.backend = oneOf<BackendChoice>(
    '--backend',
    values.backend,
    ['auto', 'wasm', 'webgpu'],
    config.backend,
  );
  config.batch.windowMs = positive(
    '--batch-window-ms',
    values['batch-window-ms'],
    config.batch.windowMs,
    false,
  );
  config.batch.maxFaces = positive('--max-batch', values['max-batch'], config.batch.maxFaces);
  // A frame is never split across batches, so it can hold at most one batch of faces.
  config.limits.maxFacesPerFrame = Math.min(config.limits.maxFacesPerFrame, config.batch.maxFaces);
  config.limits.maxFps = positive('--max-fps', values['max-fps'], config.limits.maxFps, false);
  config.limits.queueFrames = positive('--queue-frames', values['queue-frames'], config.limits.queueFrames);
  config.limits.maxSessionsPerIp = positive(
    '--max-sessions-per-ip',
    values['max-sessions-per-ip'],
    config.limits.maxSessionsPerIp,
  );
  config.limits.maxSessions = positive('--max-sessions', values['max-sessions'], config.limits.maxSessions);
  return config;
}

/** The lines `npm start` prints: where to connect and what runs. */
export function describe(server: StreamServer): string[] {
  const h = server.health();
  const { ensemble } = h;
  const weights = ensemble.members.map((m) => `${m.name} ${m.weight.toFixed(3)}`).join(', ');
  return [
    `affect stream server listening`,
    `  stream     ${server.url}`,
    `  health     ${server.httpUrl}/healthz   metrics ${server.httpUrl}/metrics`,
    `  transport  ${h.transport.name}: ${h.transport.implementation}`,
    `  adapter    ${h.adapter ?? 'none'}`,
    `  backend    ${h.backend} (preprocess: ${h.preprocess === 'wgsl' ? 'WGSL kernel' : 'TypeScript reference'}) because ${h.reason}`,
    `  models     ${ensemble.members.map((m) => m.name).join(', ')} from ${server.config.modelsDir}`,
    `  ensemble   ${ensemble.source}${ensemble.tta ? ' + flip TTA' : ''}${ensemble.classBias ? ' + class bias' : ''}: ` +
      `${weights}${ensemble.note ? ` (${ensemble.note})` : ''}`,
  ];
}
