// An ensemble member with weight 0 adds nothing to the ensemble, so the server loads and
// lists it but does not run it, and offers no per-model probabilities for it. Two of the
// shipped models, with an ensemble.json of our own that gives the second weight 0. And the
// ensemble's class bias (fitted by fer ensemble) is applied to what sessions get. A server
// started with --all-models runs the weight-0 member too and offers its probabilities.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { StreamClient } from '@affect/client';
import { applyClassBias } from '@affect/fer';
import {
  createEngine,
  decodeCrop,
  membersToRun,
  presentArchs,
  startStreamServer,
  type Engine,
  type StreamServer,
} from '@affect/stream-server';
import { randomJpeg, requireModels, requireOrSkip, testConfig } from './support/stream.ts';

const modelsDir = requireModels();
const shipped = modelsDir ? presentArchs(modelsDir) : [];
const ready = requireOrSkip(shipped.length >= 2, `fewer than two shipped models in ${modelsDir}`);

/** A models folder with two shipped models and an ensemble.json that gives the second weight 0. */
function weightZeroDir(prefix: string, kept: string, idle: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const arch of [kept, idle]) symlinkSync(join(modelsDir!, arch), join(dir, arch));
  const ensemble = { members: [kept, idle], weights: [1, 0], tta: false };
  writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(ensemble));
  return dir;
}

describe.skipIf(!ready)('an ensemble member with weight 0', () => {
  const [kept, idle] = shipped;
  let dir: string;
  let engine: Engine;
  let server: StreamServer;
  let crop: Uint8Array;

  beforeAll(async () => {
    dir = weightZeroDir('affect-weight0-', kept, idle);
    engine = await createEngine({ backend: 'wasm', modelsDir: dir });
    server = await startStreamServer(testConfig('ws', dir), { engine });
    crop = await randomJpeg(64, 64, 11);
  });
  afterAll(async () => {
    await server?.shutdown();
    engine?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('is loaded and listed with its weight, but the engine never runs it', async () => {
    expect(engine.models.ensemble.members).toEqual([
      { name: kept, weight: 1 },
      { name: idle, weight: 0 },
    ]);
    expect(engine.models.members.map((m) => m.name)).toEqual([kept, idle]);
    expect(membersToRun(engine.models).map((m) => m.name)).toEqual([kept]);
    const predict = (name: string) =>
      vi.spyOn(engine.models.members.find((m) => m.name === name)!.model, 'predict');
    const [keptPredict, idlePredict] = [predict(kept), predict(idle)];
    try {
      const out = await engine.run([await decodeCrop(crop, 1024)]);
      expect([...out.perModel.keys()]).toEqual([kept]);
      expect(keptPredict).toHaveBeenCalled();
      expect(idlePredict).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });

  test('sessions get probabilities only for the members that run, even when they ask for it', async () => {
    const plain = await StreamClient.connect(server.url);
    expect(plain.welcome.models).toEqual([kept]);
    expect(plain.welcome.ensemble.members).toContainEqual({ name: idle, weight: 0 });
    await plain.close();

    const asking = await StreamClient.connect(server.url, { models: [kept, idle] });
    expect(asking.welcome.models).toEqual([kept]);
    const o = await asking.sendFrame([{ crop, box: { x: 0, y: 0, w: 64, h: 64 } }]);
    if (o.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(o).slice(0, 300)}`);
    const f = o.result.faces[0];
    expect(Object.keys(f.models)).toEqual([kept]);
    expect(f.ensemble).toEqual(f.models[kept]);
    expect(f.ensemble.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    await asking.close();

    const health = server.health();
    expect(health.models).toEqual(engine.models.ensemble.members);
  });
});

describe.skipIf(!ready)('an ensemble member with weight 0, with --all-models', () => {
  const [kept, idle] = shipped;
  let dir: string;
  let server: StreamServer;
  let crop: Uint8Array;

  beforeAll(async () => {
    dir = weightZeroDir('affect-allmodels-', kept, idle);
    server = await startStreamServer({ ...testConfig('ws', dir), allModels: true });
    crop = await randomJpeg(64, 64, 12);
  });
  afterAll(async () => {
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("is run, and sessions get its own probabilities, while the ensemble's mix stays without it", async () => {
    const client = await StreamClient.connect(server.url, { models: [kept, idle] });
    expect(client.welcome.models).toEqual([kept, idle]);
    expect(client.welcome.ensemble.members).toContainEqual({ name: idle, weight: 0 });
    expect(client.welcome.ensemble.note).toContain(
      `${idle} run for its own probabilities, weight 0 (--all-models)`,
    );
    const o = await client.sendFrame([{ crop, box: { x: 0, y: 0, w: 64, h: 64 } }]);
    if (o.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(o).slice(0, 300)}`);
    const f = o.result.faces[0];
    expect(Object.keys(f.models).sort()).toEqual([kept, idle].sort());
    expect(f.models[idle].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // Two different networks on a random crop: their outputs differ, and only kept's counts.
    expect(f.models[idle]).not.toEqual(f.models[kept]);
    expect(f.ensemble).toEqual(f.models[kept]);
    await client.close();
  });
});

describe.skipIf(!ready)("the ensemble's class bias", () => {
  const [model] = shipped;
  const classBias = [1, 0, -0.5, 0];
  let dir: string;
  let server: StreamServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'affect-bias-'));
    symlinkSync(join(modelsDir!, model), join(dir, model));
    writeFileSync(
      join(dir, 'ensemble.json'),
      JSON.stringify({ members: [model], weights: [1], tta: false, classBias }),
    );
    server = await startStreamServer(testConfig('ws', dir));
  });
  afterAll(async () => {
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('reweights the mixed probabilities as p * exp(b), renormalised, and picks the label from them', async () => {
    const client = await StreamClient.connect(server.url, { models: [model] });
    expect(client.welcome.ensemble.classBias).toEqual(classBias);
    for (const seed of [21, 22, 23]) {
      const crop = await randomJpeg(64, 64, seed);
      const o = await client.sendFrame([{ crop, box: { x: 0, y: 0, w: 64, h: 64 } }]);
      if (o.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(o).slice(0, 300)}`);
      const f = o.result.faces[0];
      const expected = applyClassBias([...f.models[model]], classBias.length, classBias);
      expect(f.ensemble).not.toEqual(f.models[model]);
      f.ensemble.forEach((p, c) => expect(p).toBeCloseTo(expected[c], 5));
      expect(f.label).toBe(client.welcome.classes[expected.indexOf(Math.max(...expected))]);
    }
    await client.close();
  });
});
