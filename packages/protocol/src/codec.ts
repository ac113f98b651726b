// Messages ↔ msgpack bytes, with runtime validation on the way in. Validation returns
// errors as values with a protocol error code, never throws: a bad message from one client
// must turn into an error message to that client, not an exception in the server.
import { Packr, Unpackr } from 'msgpackr';
import {
  ERROR_CODES,
  type Box,
  type ClientMessage,
  type ErrorCode,
  type ErrorMessage,
  type FaceInput,
  type FaceResult,
  type FrameMessage,
  type HelloMessage,
  type ResultMessage,
  type ServerMessage,
  type Timings,
  type WelcomeMessage,
} from './messages.ts';

// Plain msgpack (no msgpackr record extension), so any msgpack library can speak the protocol.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function encodeMessage(message: ClientMessage | ServerMessage): Uint8Array {
  return packr.pack(message);
}

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  frameId?: number;
}

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

class FieldError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new FieldError('bad-field', `${path} must be ${expected} (got ${got})`);
}

type Obj = Record<string, unknown>;

/** A plain map: not an array, not bytes, not one of msgpackr's own objects (0xc1 → C1Type). */
function isObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function obj(v: unknown, path: string): Obj {
  if (!isObject(v)) fail(path, 'a map', v);
  return v;
}

function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'a finite number', v);
  return v;
}

function nonNegativeInt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(path, 'a non-negative integer', v);
  return v;
}

function str(v: unknown, path: string, maxLength = 256): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  if (v.length > maxLength)
    throw new FieldError('bad-field', `${path} is longer than ${maxLength} characters`);
  return v;
}

function bytes(v: unknown, path: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(path, 'binary (msgpack bin)', v);
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v;
}

function numbers(v: unknown, path: string): number[] {
  return arr(v, path).map((x, i) => num(x, `${path}[${i}]`));
}

function box(v: unknown, path: string): Box {
  const o = obj(v, path);
  const b = {
    x: num(o.x, `${path}.x`),
    y: num(o.y, `${path}.y`),
    w: num(o.w, `${path}.w`),
    h: num(o.h, `${path}.h`),
  };
  if (b.w < 0 || b.h < 0) throw new FieldError('bad-field', `${path} must have w >= 0 and h >= 0`);
  return b;
}

function hello(o: Obj): HelloMessage {
  const message: HelloMessage = {
    type: 'hello',
    version: nonNegativeInt(o.version, 'hello.version'),
    client: str(o.client, 'hello.client'),
  };
  if (o.models !== undefined && o.models !== null) {
    message.models = arr(o.models, 'hello.models').map((m, i) => str(m, `hello.models[${i}]`, 64));
  }
  return message;
}

function face(v: unknown, path: string): FaceInput {
  const o = obj(v, path);
  return { crop: bytes(o.crop, `${path}.crop`), box: box(o.box, `${path}.box`) };
}

function frame(o: Obj): FrameMessage {
  return {
    type: 'frame',
    frameId: nonNegativeInt(o.frameId, 'frame.frameId'),
    capturedAt: num(o.capturedAt, 'frame.capturedAt'),
    faces: arr(o.faces, 'frame.faces').map((f, i) => face(f, `frame.faces[${i}]`)),
  };
}

function unpack(data: Uint8Array): { ok: true; value: Obj } | { ok: false; error: ProtocolError } {
  let value: unknown;
  try {
    value = unpackr.unpack(data);
  } catch (err) {
    return {
      ok: false,
      error: { code: 'bad-message', message: `not valid msgpack: ${(err as Error).message}` },
    };
  }
  if (!isObject(value)) {
    return {
      ok: false,
      error: { code: 'bad-message', message: 'a message must be a msgpack map with a "type" field' },
    };
  }
  return { ok: true, value };
}

function decodeWith<T>(data: Uint8Array, readers: Record<string, (o: Obj) => T>): Decoded<T> {
  const unpacked = unpack(data);
  if (!unpacked.ok) return unpacked;
  const o = unpacked.value;
  const type = o.type;
  // Own keys only: a type of "toString" or "__proto__" must not find Object.prototype's.
  if (typeof type !== 'string' || !Object.hasOwn(readers, type)) {
    return {
      ok: false,
      error: {
        code: 'unknown-type',
        message: `unknown message type ${JSON.stringify(type)}; expected one of ${Object.keys(readers).join(', ')}`,
      },
    };
  }
  try {
    return { ok: true, message: readers[type](o) };
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    const frameId =
      typeof o.frameId === 'number' && Number.isSafeInteger(o.frameId) && o.frameId >= 0
        ? o.frameId
        : undefined;
    return {
      ok: false,
      error: { code: err.code, message: err.message, ...(frameId !== undefined ? { frameId } : {}) },
    };
  }
}

/** Decodes and validates what a client sent. */
export function decodeClientMessage(data: Uint8Array): Decoded<ClientMessage> {
  return decodeWith<ClientMessage>(data, { hello, frame });
}

// ── server messages, validated by clients ───────────────────────────────────────────────

function timings(v: unknown): Timings {
  const o = obj(v, 'result.timings');
  return {
    queue: num(o.queue, 'timings.queue'),
    decode: num(o.decode, 'timings.decode'),
    preprocess: num(o.preprocess, 'timings.preprocess'),
    inference: num(o.inference, 'timings.inference'),
    total: num(o.total, 'timings.total'),
  };
}

function faceResult(v: unknown, path: string): FaceResult {
  const o = obj(v, path);
  const models = obj(o.models, `${path}.models`);
  return {
    box: box(o.box, `${path}.box`),
    models: Object.fromEntries(
      Object.entries(models).map(([k, p]) => [k, numbers(p, `${path}.models.${k}`)]),
    ),
    ensemble: numbers(o.ensemble, `${path}.ensemble`),
    label: str(o.label, `${path}.label`),
    confidence: num(o.confidence, `${path}.confidence`),
  };
}

function result(o: Obj): ResultMessage {
  return {
    type: 'result',
    frameId: nonNegativeInt(o.frameId, 'result.frameId'),
    capturedAt: num(o.capturedAt, 'result.capturedAt'),
    faces: arr(o.faces, 'result.faces').map((f, i) => faceResult(f, `result.faces[${i}]`)),
    timings: timings(o.timings),
    batchSize: nonNegativeInt(o.batchSize, 'result.batchSize'),
    dropped: nonNegativeInt(o.dropped, 'result.dropped'),
    lostMessages: nonNegativeInt(o.lostMessages, 'result.lostMessages'),
  };
}

function welcome(o: Obj): WelcomeMessage {
  // The welcome is sent once and its nested shapes are the server's own: check the fields
  // clients index by, and keep the rest as sent.
  nonNegativeInt(o.version, 'welcome.version');
  str(o.sessionId, 'welcome.sessionId');
  arr(o.classes, 'welcome.classes').forEach((c, i) => str(c, `welcome.classes[${i}]`));
  arr(o.models, 'welcome.models').forEach((m, i) => str(m, `welcome.models[${i}]`));
  obj(o.ensemble, 'welcome.ensemble');
  obj(o.limits, 'welcome.limits');
  if (o.backend !== 'webgpu' && o.backend !== 'wasm')
    fail('welcome.backend', "'webgpu' or 'wasm'", o.backend);
  return o as unknown as WelcomeMessage;
}

function error(o: Obj): ErrorMessage {
  const code = str(o.code, 'error.code');
  if (!(ERROR_CODES as readonly string[]).includes(code)) fail('error.code', 'a known error code', code);
  const message: ErrorMessage = {
    type: 'error',
    code: code as ErrorCode,
    message: str(o.message, 'error.message', 4096),
  };
  if (o.frameId !== undefined && o.frameId !== null)
    message.frameId = nonNegativeInt(o.frameId, 'error.frameId');
  if (o.fatal === true) message.fatal = true;
  return message;
}

/** Decodes and validates what the server sent. */
export function decodeServerMessage(data: Uint8Array): Decoded<ServerMessage> {
  return decodeWith<ServerMessage>(data, { welcome, result, error });
}
