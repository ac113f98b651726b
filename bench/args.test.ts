import { describe, expect, it } from 'vitest';
import { parseBenchArgs, SUITES } from './args.ts';

describe('parseBenchArgs', () => {
  it('runs every suite on every architecture by default', () => {
    expect(parseBenchArgs([])).toEqual({
      suites: [...SUITES],
      archs: ['cnn', 'vgg16', 'resnetv2', 'efficientnet'],
      scriptArgs: {},
    });
  });

  it('passes a script suite its options, in either form', () => {
    const a = parseBenchArgs(['stream-roundtrip', '--seconds', '5', '--clients=1,4']);
    expect(a.suites).toEqual(['stream-roundtrip']);
    expect(a.scriptArgs).toEqual({ 'stream-roundtrip': ['--seconds=5', '--clients=1,4'] });
  });

  it('gives an option only to the suites that take it', () => {
    const a = parseBenchArgs(['--rounds', '2', '--seconds=3']);
    expect(a.scriptArgs).toEqual({
      'stream-decode': ['--rounds=2'],
      'stream-roundtrip': ['--seconds=3'],
    });
  });

  it('limits the model suites with --archs', () => {
    expect(parseBenchArgs(['train-step', '--archs=vgg16,cnn']).archs).toEqual(['vgg16', 'cnn']);
    expect(parseBenchArgs(['train-step', '--archs', 'efficientnet']).archs).toEqual(['efficientnet']);
  });

  it('refuses what it cannot run, naming it', () => {
    expect(() => parseBenchArgs(['kernls'])).toThrow(/unknown suite 'kernls'/);
    expect(() => parseBenchArgs(['--archs=cnn,foo'])).toThrow(/unknown architecture 'foo'/);
    expect(() => parseBenchArgs(['--archs='])).toThrow(/unknown architecture/);
    expect(() => parseBenchArgs(['kernels', '--seconds=5'])).toThrow(
      /--seconds is an option of stream-roundtrip, which is not being run/,
    );
    expect(() => parseBenchArgs(['--warmup=3'])).toThrow(/unknown option --warmup/);
    expect(() => parseBenchArgs(['stream-decode', '--rounds'])).toThrow(/--rounds needs a value/);
  });
});
