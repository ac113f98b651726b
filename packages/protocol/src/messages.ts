// The messages of the stream, as the TypeScript types every side uses. The wire form is
// msgpack (see codec.ts); docs/protocol.md documents both with examples.

/** Bumped on any incompatible change; the server refuses a hello with another version. */
export const PROTOCOL_VERSION = 1;

/** The WebSocket path the server listens on. */
export const STREAM_PATH = '/ws';

/** A rectangle in frame pixels (the client's camera frame), top-left origin. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One detected face: its compressed pixels and where it was in the frame. */
export interface FaceInput {
  /** The face crop as a JPEG or WebP file. */
  crop: Uint8Array;
  box: Box;
}

// ── client → server ─────────────────────────────────────────────────────────────────────

export interface HelloMessage {
  type: 'hello';
  version: number;
  /** Free text naming the client, for logs ("web 0.1", "bench"). */
  client: string;
  /**
   * Models whose own probabilities the client wants in each result, by name (cnn, vgg16,
   * resnetv2, efficientnet). Omitted: all loaded models. The ensemble is always returned.
   * A model with ensemble weight 0 is not run, so it is left out (see WelcomeMessage.models).
   */
  models?: string[];
}

export interface FrameMessage {
  type: 'frame';
  /** Chosen by the client; results echo it. Non-negative integer, increasing per session. */
  frameId: number;
  /** When the frame was captured, in the client's milliseconds (echoed, never interpreted). */
  capturedAt: number;
  faces: FaceInput[];
}

export type ClientMessage = HelloMessage | FrameMessage;

// ── server → client ─────────────────────────────────────────────────────────────────────

/** The limits the server enforces on this session; going over one gets an error with a code. */
export interface Limits {
  /** Largest message the server reads, in bytes. */
  maxMessageBytes: number;
  maxFacesPerFrame: number;
  /** Largest crop side in pixels (after decoding). */
  maxCropSide: number;
  /** Frames per second a session may send (sustained; short bursts are allowed). */
  maxFps: number;
  maxSessionsPerIp: number;
  /** Sessions the server holds at once, from all addresses. */
  maxSessions: number;
  /** Frames waiting per session; beyond it the oldest waiting frame is dropped. */
  queueFrames: number;
}

export interface ModelInfo {
  name: string;
  /** Its weight in the ensemble. */
  weight: number;
}

export interface EnsembleInfo {
  members: ModelInfo[];
  /** Where the weights came from: the fitted models/ensemble.json, or equal weights. */
  source: 'ensemble.json' | 'equal-weights';
  /** Why equal weights were used, when they were. */
  note?: string;
  /** Each member is averaged over the crop and its mirror image. */
  tta: boolean;
  /**
   * Per-class offsets (classes order) added to the log of the mixed probabilities, which are
   * then renormalised; fitted on validation. Absent: none.
   */
  classBias?: number[];
}

export interface WelcomeMessage {
  type: 'welcome';
  version: number;
  sessionId: string;
  /** Class names, in the order of every probability vector. */
  classes: string[];
  /** The loaded models (all of them) and the ensemble they make. */
  ensemble: EnsembleInfo;
  /**
   * The models this session gets per-model probabilities for: those it asked for, less any
   * with weight 0 in the ensemble, which the server does not run.
   */
  models: string[];
  /** Which inference path runs: tfjs on WebGPU with the WGSL preprocess, or tfjs wasm with the CPU one. */
  backend: 'webgpu' | 'wasm';
  limits: Limits;
}

export interface FaceResult {
  box: Box;
  /** Probabilities per model of the welcome's `models`, each in `classes` order. */
  models: Record<string, number[]>;
  /** The weighted ensemble's probabilities. */
  ensemble: number[];
  /** The ensemble's most likely class and its probability. */
  label: string;
  confidence: number;
}

/** Milliseconds spent on the frame by each stage (decode/preprocess/inference: its batch's). */
export interface Timings {
  /** Waiting: in the session queue, for a batch, and for the GPU. */
  queue: number;
  decode: number;
  preprocess: number;
  inference: number;
  /** From the frame's arrival to the result being handed to the socket. */
  total: number;
}

export interface ResultMessage {
  type: 'result';
  frameId: number;
  capturedAt: number;
  faces: FaceResult[];
  timings: Timings;
  /** Faces that went through the GPU in the same batch (all sessions). */
  batchSize: number;
  /** Frames of this session dropped unprocessed (latest wins) since the previous result. */
  dropped: number;
  /** Messages to this session the server had to drop because the socket was backed up, since the previous result. */
  lostMessages: number;
}

export const ERROR_CODES = [
  /** Not msgpack, or not a message object. */
  'bad-message',
  /** A field is missing or has the wrong type. */
  'bad-field',
  /** `type` is not a known message kind. */
  'unknown-type',
  'version-mismatch',
  /** A frame before hello, or a second hello. */
  'bad-sequence',
  'unknown-model',
  'message-too-large',
  'too-many-faces',
  'crop-too-large',
  'empty-crop',
  /** The crop is not a JPEG or WebP file. */
  'unsupported-image',
  /** The crop could not be decoded (corrupt or truncated). */
  'bad-image',
  'rate-limited',
  'too-many-sessions',
  'too-many-errors',
  'shutting-down',
  /** The server failed; the frame was not processed. */
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The frame the error is about, when it is about one. */
  frameId?: number;
  /** The server closes the session right after this error. */
  fatal?: boolean;
}

export type ServerMessage = WelcomeMessage | ResultMessage | ErrorMessage;

/** WebSocket close codes the server uses (1008: policy violation, 1001: going away, 1011: server error). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
} as const;
