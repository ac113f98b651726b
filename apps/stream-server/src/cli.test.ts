// The command line: defaults, environment, and refusals with a message.
import { describe, expect, test } from 'vitest';
import { configFromArgs } from './cli.ts';

describe('configFromArgs', () => {
  test('defaults: loopback, 8787, uws, auto backend; STREAM_HOST/STREAM_PORT override them', () => {
    const c = configFromArgs([], {});
    if (c === 'help') throw new Error('unexpected help');
    expect([c.host, c.port, c.transport, c.backend]).toEqual(['127.0.0.1', 8787, 'uws', 'auto']);
    const e = configFromArgs([], { STREAM_PORT: '9001', STREAM_HOST: '0.0.0.0' });
    if (e === 'help') throw new Error('unexpected help');
    expect([e.host, e.port]).toEqual(['0.0.0.0', 9001]);
    const f = configFromArgs(['--port', '0', '--transport', 'ws', '--backend', 'webgpu'], {
      STREAM_PORT: '9001',
    });
    if (f === 'help') throw new Error('unexpected help');
    expect([f.port, f.transport, f.backend]).toEqual([0, 'ws', 'webgpu']);
  });

  test("--no-tta turns the ensemble's flip TTA off; it is on by default", () => {
    const on = configFromArgs([], {});
    const off = configFromArgs(['--no-tta'], {});
    if (on === 'help' || off === 'help') throw new Error('unexpected help');
    expect([on.tta, off.tta]).toEqual([true, false]);
  });

  test('--all-models runs the members the ensemble weighs 0 as well; off by default', () => {
    const on = configFromArgs(['--all-models'], {});
    const off = configFromArgs([], {});
    if (on === 'help' || off === 'help') throw new Error('help');
    expect([on.allModels, off.allModels]).toEqual([true, false]);
  });

  test('a smaller max batch also bounds the faces per frame (frames are never split)', () => {
    const c = configFromArgs(['--max-batch', '8', '--batch-window-ms', '0.5'], {});
    if (c === 'help') throw new Error('unexpected help');
    expect([c.batch.maxFaces, c.batch.windowMs, c.limits.maxFacesPerFrame]).toEqual([8, 0.5, 8]);
  });

  test.each([
    [['--transport', 'tcp'], /--transport must be one of uws, ws/],
    [['--backend', 'cuda'], /--backend must be one of auto, wasm, webgpu/],
    [['--port=-1'], /--port must be a non-negative integer/],
    [['--max-fps', 'fast'], /--max-fps must be a non-negative number/],
  ])('%j is refused', (args, message) => {
    expect(() => configFromArgs(args, {})).toThrow(message);
  });
});
