import { describe, expect, test } from 'vitest';
import { candidates, describeChoice, fastest, isSoftwareRenderer, type GpuProbe } from './backend.ts';

const swiftshaderGpu: GpuProbe = {
  backend: 'webgpu',
  available: true,
  software: true,
  description: 'google swiftshader',
};
const swiftshaderGl: GpuProbe = {
  backend: 'webgl',
  available: true,
  software: true,
  description: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)',
};
const nvidia: GpuProbe = {
  backend: 'webgpu',
  available: true,
  software: false,
  description: 'nvidia ampere',
};
const nvidiaGl: GpuProbe = {
  backend: 'webgl',
  available: true,
  software: false,
  description: 'ANGLE (NVIDIA GeForce RTX 3060)',
};

describe('backend choice', () => {
  test('recognises software renderers by name', () => {
    expect(isSoftwareRenderer(swiftshaderGl.description)).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('Microsoft Basic Render Driver')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)')).toBe(
      false,
    );
    expect(isSoftwareRenderer(nvidiaGl.description)).toBe(false);
  });

  test('headless Chromium (SwiftShader for both GPU APIs): only wasm is timed, and the HUD says why', () => {
    const { timed, notes } = candidates([swiftshaderGpu, swiftshaderGl]);
    expect(timed).toEqual(['wasm']);
    expect(notes.join(' | ')).toMatch(/webgpu skipped: software adapter \(google swiftshader\)/);
    expect(describeChoice({ wasm: 12.3 }, notes)).toMatch(
      /^only candidate \(wasm 12\.3 ms\); webgpu skipped/,
    );
  });

  test('a hardware GPU: both GPU backends and wasm are timed and the fastest wins', () => {
    const { timed } = candidates([nvidia, nvidiaGl]);
    expect(timed).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(fastest({ webgpu: 3.1, webgl: 4.2, wasm: 15 }, timed)).toBe('webgpu');
    expect(fastest({ webgpu: 9, webgl: 4.2, wasm: 15 }, timed)).toBe('webgl');
    // A backend that failed to run is never chosen.
    expect(fastest({ webgpu: Number.NaN, webgl: 20, wasm: 15 }, timed)).toBe('wasm');
    expect(describeChoice({ webgpu: 9, webgl: 4.2, wasm: 15 }, [])).toBe(
      'fastest of webgpu 9.0 ms, webgl 4.2 ms, wasm 15.0 ms',
    );
  });

  test('no WebGPU at all (Firefox without it): noted, not timed', () => {
    const { timed, notes } = candidates([
      { backend: 'webgpu', available: false, software: false, description: 'no navigator.gpu' },
      nvidiaGl,
    ]);
    expect(timed).toEqual(['webgl', 'wasm']);
    expect(notes).toEqual(['webgpu unavailable (no navigator.gpu)']);
  });
});
