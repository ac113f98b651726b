// The schema's validation: every message kind round-trips, and every kind of bad input
// becomes an error value with a code (never an exception), with the frameId when known.
import { describe, expect, test } from 'vitest';
import { Packr } from 'msgpackr';
import { decodeClientMessage, decodeServerMessage, encodeMessage } from './codec.ts';
import {
  PROTOCOL_VERSION,
  type FrameMessage,
  type HelloMessage,
  type ResultMessage,
  type ServerMessage,
} from './messages.ts';

function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const rnd = random(7);
const frame: FrameMessage = {
  type: 'frame',
  frameId: 41,
  capturedAt: 1_700_000_000_123.5,
  faces: [0, 1].map((i) => ({
    crop: Uint8Array.from({ length: 300 + i }, () => Math.floor(rnd() * 256)),
    box: { x: rnd() * 300, y: rnd() * 200, w: 40 + i, h: 44.5 },
  })),
};

describe('client messages', () => {
  test('hello and frame round-trip, crops as the same bytes', () => {
    const hello: HelloMessage = { type: 'hello', version: PROTOCOL_VERSION, client: 'test', models: ['cnn'] };
    expect(decodeClientMessage(encodeMessage(hello))).toEqual({ ok: true, message: hello });
    const decoded = decodeClientMessage(encodeMessage(frame));
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.message).toMatchObject({ type: 'frame', frameId: 41, capturedAt: frame.capturedAt });
    const faces = (decoded.message as FrameMessage).faces;
    expect(faces.map((f) => f.box)).toEqual(frame.faces.map((f) => f.box));
    faces.forEach((f, i) => expect(Buffer.from(f.crop).equals(Buffer.from(frame.faces[i].crop))).toBe(true));
  });

  test('the wire form is plain msgpack: a generic decoder reads it', () => {
    const plain = new Packr({ useRecords: false }).unpack(encodeMessage(frame));
    expect(plain.type).toBe('frame');
    expect(plain.faces[1].box.h).toBe(44.5);
  });

  test.each([
    ['not msgpack', new Uint8Array([0xc1]), 'bad-message'],
    ['truncated msgpack', encodeMessage(frame).subarray(0, 40), 'bad-message'],
    ['a number, not a map', encodeMessage(42 as never), 'bad-message'],
    ['an array, not a map', encodeMessage([1, 2] as never), 'bad-message'],
    ['no type', encodeMessage({ frameId: 1 } as never), 'unknown-type'],
    ['unknown type', encodeMessage({ type: 'delete-everything' } as never), 'unknown-type'],
    ['inherited name as type', encodeMessage({ type: 'toString' } as never), 'unknown-type'],
    ['a server message kind', encodeMessage({ type: 'welcome' } as never), 'unknown-type'],
    ['hello without version', encodeMessage({ type: 'hello', client: 'x' } as never), 'bad-field'],
    [
      'hello with a string version',
      encodeMessage({ type: 'hello', version: '1', client: 'x' } as never),
      'bad-field',
    ],
    [
      'models not strings',
      encodeMessage({ type: 'hello', version: 1, client: 'x', models: [3] } as never),
      'bad-field',
    ],
    ['negative frameId', encodeMessage({ ...frame, frameId: -1 } as never), 'bad-field'],
    ['fractional frameId', encodeMessage({ ...frame, frameId: 1.5 } as never), 'bad-field'],
    [
      'crop as a string',
      encodeMessage({ ...frame, faces: [{ crop: 'jpeg', box: frame.faces[0].box }] } as never),
      'bad-field',
    ],
    [
      'box missing',
      encodeMessage({ ...frame, faces: [{ crop: frame.faces[0].crop }] } as never),
      'bad-field',
    ],
    [
      'negative box size',
      encodeMessage({
        ...frame,
        faces: [{ crop: frame.faces[0].crop, box: { x: 0, y: 0, w: -1, h: 2 } }],
      } as never),
      'bad-field',
    ],
    ['faces not an array', encodeMessage({ ...frame, faces: {} } as never), 'bad-field'],
  ])('%s → %s', (_, bytes, code) => {
    const decoded = decodeClientMessage(bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.code).toBe(code);
      expect(decoded.error.message.length).toBeGreaterThan(5);
    }
  });

  test('a bad field of a frame reports the frameId when it is readable', () => {
    const decoded = decodeClientMessage(encodeMessage({ ...frame, capturedAt: 'noon' } as never));
    expect(decoded).toMatchObject({ ok: false, error: { code: 'bad-field', frameId: 41 } });
    expect(decoded.ok || decoded.error.message).toMatch(/frame\.capturedAt/);
  });

  test('random bytes never throw', () => {
    const r = random(3);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      expect(() => decodeClientMessage(bytes)).not.toThrow();
    }
  });
});

describe('server messages', () => {
  const result: ResultMessage = {
    type: 'result',
    frameId: 3,
    capturedAt: 12.5,
    faces: [
      {
        box: { x: 1, y: 2, w: 3, h: 4 },
        models: { cnn: [0.1, 0.2, 0.3, 0.4] },
        ensemble: [0.1, 0.2, 0.3, 0.4],
        label: 'neutral',
        confidence: 0.4,
      },
    ],
    timings: { queue: 1, decode: 2, preprocess: 3, inference: 4, total: 10 },
    batchSize: 5,
    dropped: 2,
    lostMessages: 0,
  };
  test.each<ServerMessage>([
    result,
    { type: 'error', code: 'rate-limited', message: 'slow down', frameId: 9 },
    { type: 'error', code: 'too-many-errors', message: 'bye', fatal: true },
  ])('$type round-trips', (message) => {
    const decoded = decodeServerMessage(encodeMessage(message));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) {
      // Float32 probabilities go out as doubles: compare closely, not bit for bit.
      expect(JSON.parse(JSON.stringify(decoded.message))).toEqual(JSON.parse(JSON.stringify(message)));
    }
  });

  test('an unknown error code is refused', () => {
    expect(
      decodeServerMessage(encodeMessage({ type: 'error', code: 'oops', message: '' } as never)),
    ).toMatchObject({
      ok: false,
      error: { code: 'bad-field' },
    });
  });
});
