// Real inputs for the stream-server tests: fer4 faces encoded as JPEG, face crops cut from
// franck.mp4 with ffmpeg, the shipped models, and fer's own evaluation path as the reference.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  applyClassBias,
  DEFAULT_MODELS_DIR,
  ensembleProbs,
  IMAGE_BYTES,
  readSplit,
  repoRoot,
  toGray48,
} from '@affect/fer';
import { defaultConfig, presentArchs, type ServerConfig, type ShippedModels } from '@affect/stream-server';

/** Skips (with a message) when a test input is missing; in CI a missing input fails. */
export function requireOrSkip(present: boolean, what: string): boolean {
  if (present) return true;
  if (process.env.CI === 'true') throw new Error(`${what}; CI must provide it`);
  console.warn(`${what}; skipping the tests that need it`);
  return false;
}

/** The shipped models folder, when at least one model is in it. */
export function requireModels(dir = DEFAULT_MODELS_DIR): string | undefined {
  return requireOrSkip(presentArchs(dir).length > 0, `no shipped model in ${dir}`) ? dir : undefined;
}

export function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A quiet server config for tests: loopback, a free port, generous rate limit. */
export function testConfig(transport: ServerConfig['transport'], modelsDir: string): ServerConfig {
  const config = defaultConfig(modelsDir);
  config.port = 0;
  config.transport = transport;
  config.backend = 'wasm';
  config.limits.maxFps = 10_000;
  config.log = () => {};
  return config;
}

export interface Fer4Faces {
  /** n × 2304 grey pixels, as fer eval reads them. */
  pixels: Uint8Array;
  labels: Uint8Array;
  /** Each image as a JPEG file, the way a client would send it. */
  jpegs: Uint8Array[];
}

/** The fer4 test split, each image encoded as JPEG (quality 90). */
export async function fer4Faces(dataDir: string, split = 'test'): Promise<Fer4Faces> {
  const s = await readSplit(dataDir, split);
  const jpegs = await Promise.all(
    Array.from(
      { length: s.n },
      async (_, i) =>
        new Uint8Array(
          await sharp(s.pixels.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), {
            raw: { width: 48, height: 48, channels: 1 },
          })
            .jpeg({ quality: 90 })
            .toBuffer(),
        ),
    ),
  );
  return { pixels: s.pixels, labels: s.labels, jpegs };
}

export const VIDEO = resolve(repoRoot(), '../shared/data/video/franck.mp4');

/**
 * `count` face crops from franck.mp4 (one every half second from the start), cut by ffmpeg
 * around where his face is (the video is 360x288, the face near x 115-275, y 75-235) and
 * encoded as JPEG by ffmpeg itself.
 */
export function videoCrops(count: number): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'affect-crops-'));
  try {
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-i',
      VIDEO,
      '-vf',
      `select=not(mod(n\\,12)),crop=160:160:115:75`,
      '-fps_mode',
      'vfr',
      '-frames:v',
      String(count),
      '-q:v',
      '3',
      join(dir, 'crop%03d.jpg'),
    ]);
    return readdirSync(dir)
      .sort()
      .map((f) => new Uint8Array(readFileSync(join(dir, f))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What `fer eval` computes for these 48x48 images with the same models and weights. */
export async function referenceProbs(models: ShippedModels, gray: Uint8Array): Promise<Float32Array> {
  return applyClassBias(
    await ensembleProbs(models.members, models.weights, gray, models.ensemble.tta),
    models.classes.length,
    models.classBias,
  );
}

/** fer's own decode of encoded images to 48x48 grey (sharp, BT.601, area resize). */
export async function gray48(files: Uint8Array[]): Promise<Uint8Array> {
  const out = new Uint8Array(files.length * IMAGE_BYTES);
  for (let i = 0; i < files.length; i++) out.set(await toGray48(files[i]), i * IMAGE_BYTES);
  return out;
}

export function argmaxRows(probs: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < probs.length / k; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[r * k + c] > probs[r * k + best]) best = c;
    out.push(best);
  }
  return out;
}

export function agreement(a: number[], b: number[]): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

/** A JPEG of random pixels, w × h. */
export async function randomJpeg(w: number, h: number, seed: number): Promise<Uint8Array> {
  let s = seed >>> 0;
  const px = Buffer.alloc(w * h * 3).map(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
  return new Uint8Array(
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg()
      .toBuffer(),
  );
}
