// The two inference paths agree: WGSL preprocess + tfjs-webgpu (zero-copy, same device)
// against the TypeScript reference + tfjs wasm, on real crops through the real server code.
// WebGPU on lavapipe is slow, so this stays small. Its own file: tfjs has one active
// backend per process, and this test switches it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGpu, GpuUnavailableError, type FaceCrop } from '@affect/gpu';
import { StreamClient } from '@affect/client';
import { requireSharedData } from '@affect/fer';
import { createEngine, decodeCrop, startStreamServer, type InferenceOutput } from '@affect/stream-server';
import {
  fer4Faces,
  hasFfmpeg,
  requireModels,
  requireOrSkip,
  testConfig,
  videoCrops,
} from './support/stream.ts';

async function hasAdapter(): Promise<boolean> {
  try {
    (await createGpu()).destroy();
    return true;
  } catch (err) {
    if (!(err instanceof GpuUnavailableError)) throw err;
    return requireOrSkip(false, `no WebGPU adapter (${err.message})`);
  }
}

const dataDir = requireSharedData();
const modelsDir = requireModels();
const ready = Boolean(dataDir && modelsDir) && (await hasAdapter());

describe.skipIf(!ready)('webgpu path vs wasm path', () => {
  let crops: FaceCrop[];
  let jpegs: Uint8Array[];
  let wasm: InferenceOutput;

  beforeAll(async () => {
    const fer4 = await fer4Faces(dataDir!);
    // Two 48x48 faces (resampled 1:1) and, when ffmpeg is here, two 160x160 video crops (shrunk 3.3x).
    jpegs = [
      fer4.jpegs[5],
      fer4.jpegs[77],
      ...(requireOrSkip(hasFfmpeg(), 'ffmpeg is not installed') ? videoCrops(2) : []),
    ];
    crops = await Promise.all(jpegs.map((j) => decodeCrop(j, 1024)));
    const engine = await createEngine({ backend: 'wasm', modelsDir: modelsDir! });
    wasm = await engine.run(crops);
    engine.dispose();
  });

  let server: Awaited<ReturnType<typeof startStreamServer>> | undefined;
  afterAll(() => server?.shutdown());

  test('same probabilities within 1e-3, and the server serves them over WebGPU', async () => {
    const config = testConfig('uws', modelsDir!);
    config.backend = 'webgpu';
    server = await startStreamServer(config);
    const { engine } = server;
    expect(engine.backend).toBe('webgpu');
    expect(engine.preprocess).toBe('wgsl');
    expect(engine.adapter).not.toBeNull();

    const gpu = await engine.run(crops);
    const k = engine.models.classes.length;
    expect([...gpu.perModel.keys()]).toEqual([...wasm.perModel.keys()]);
    gpu.perModel.forEach((p, name) => {
      expect(p.length).toBe(crops.length * k);
      const q = wasm.perModel.get(name)!;
      let maxDiff = 0;
      for (let i = 0; i < p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i] - q[i]));
      console.log(
        `${name}: webgpu vs wasm max |Δp| = ${maxDiff.toExponential(2)} over ${crops.length} crops`,
      );
      expect(maxDiff).toBeLessThan(1e-3);
    });

    const health = await (await fetch(`${server.httpUrl}/healthz`)).json();
    expect(health).toMatchObject({ backend: 'webgpu', preprocess: 'wgsl' });
    const client = await StreamClient.connect(server.url);
    expect(client.welcome.backend).toBe('webgpu');
    const o = await client.sendFrame(jpegs.map((crop, i) => ({ crop, box: { x: i, y: 0, w: 1, h: 1 } })));
    if (o.kind !== 'result') throw new Error(JSON.stringify(o));
    const [m0, p0] = [...wasm.perModel][0];
    o.result.faces.forEach((f, i) => {
      const expected = Array.from(p0.subarray(i * k, (i + 1) * k));
      f.models[m0].forEach((p, c) => expect(p).toBeCloseTo(expected[c], 3));
    });
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(Number(/^affect_gpu_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    await client.close();
  });
});
