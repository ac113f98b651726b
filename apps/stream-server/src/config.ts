// Everything the server can be told, with the defaults `npm start` uses.
import type { Limits } from '@affect/protocol';
import { MAX_CROP_SIDE } from '@affect/gpu';

export type TransportName = 'uws' | 'ws';
/** auto: WebGPU on a hardware adapter, wasm on a software one or none. */
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

export interface BatchOptions {
  /** How long the first waiting face waits for others before its batch starts. */
  windowMs: number;
  /** A batch starts at once when this many faces wait; whole frames only, never split. */
  maxFaces: number;
}

export interface SendOptions {
  /**
   * Bytes buffered on a socket above which the server stops writing to it and queues
   * messages until it drains. uWebSockets.js's maxBackpressure is set above this, so a send
   * we make is never dropped by uWS itself.
   */
  highWaterBytes: number;
  /** Messages queued per session while its socket is backed up; the oldest go first. */
  maxQueued: number;
}

export interface ServerConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  transport: TransportName;
  backend: BackendChoice;
  /** Folder with <arch>/model.json (+ weights.bin) and optionally ensemble.json. */
  modelsDir: string;
  /** false: skip the ensemble's flip TTA (--no-tta), halving inference per face. */
  tta: boolean;
  /**
   * true: also run the members the ensemble weighs 0 (--all-models), so sessions get every
   * shipped model's own probabilities; one more forward pass per face for each.
   */
  allModels: boolean;
  batch: BatchOptions;
  send: SendOptions;
  limits: Limits;
  /**
   * Protocol errors (bad messages, wrong fields, unknown types) a session may cause before it
   * is closed with 'too-many-errors'.
   */
  maxProtocolErrors: number;
  /** How long shutdown waits for in-flight batches before closing sockets anyway. */
  shutdownGraceMs: number;
  log: (line: string) => void;
}

export const DEFAULT_PORT = 8787;

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 2 * 1024 * 1024,
  maxFacesPerFrame: 16,
  maxCropSide: MAX_CROP_SIDE,
  maxFps: 60,
  maxSessionsPerIp: 16,
  // Each session holds at most queueFrames frames, so this bounds the server's memory.
  maxSessions: 256,
  queueFrames: 2,
};

export function defaultConfig(modelsDir: string): ServerConfig {
  return {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    transport: 'uws',
    backend: 'auto',
    modelsDir,
    tta: true,
    allModels: false,
    batch: { windowMs: 4, maxFaces: 32 },
    send: { highWaterBytes: 1024 * 1024, maxQueued: 64 },
    limits: { ...DEFAULT_LIMITS },
    maxProtocolErrors: 100,
    shutdownGraceMs: 10_000,
    log: (line) => console.log(line),
  };
}

/** Throws on settings that contradict each other, with what to change. */
export function checkConfig(config: ServerConfig): void {
  const { batch, limits } = config;
  const problems: string[] = [];
  if (!(batch.windowMs >= 0)) problems.push(`batch window must be >= 0 ms (got ${batch.windowMs})`);
  if (!Number.isInteger(batch.maxFaces) || batch.maxFaces < 1)
    problems.push('max batch must be an integer >= 1');
  if (limits.maxFacesPerFrame > batch.maxFaces) {
    problems.push(
      `faces per frame (${limits.maxFacesPerFrame}) exceeds the max batch (${batch.maxFaces}): a frame is never split across batches`,
    );
  }
  if (limits.maxCropSide > MAX_CROP_SIDE)
    problems.push(`max crop side is at most ${MAX_CROP_SIDE} (the preprocess kernel's limit)`);
  if (limits.queueFrames < 1) problems.push('the per-session queue must hold at least 1 frame');
  if (!(limits.maxFps > 0)) problems.push('max fps must be > 0');
  if (problems.length) throw new Error(`invalid server configuration: ${problems.join('; ')}`);
}
