// Models on disk in the standard tfjs "layers-model" format (model.json + weights.bin),
// so the same files load in Node (here), in the server and in the browser.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../tfjs/tf.ts';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export class ModelFileError extends Error {
  readonly code = 'E_MODEL_FILE';
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  userDefinedMetadata?: Record<string, unknown>;
}

// IEEE 754 half precision, round-to-nearest-even, with subnormals.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

function quantizeFloat16(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const src = new Float32Array(data);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = toFloat16Bits(src[i]);
  for (const s of specs) {
    if (s.dtype !== 'float32')
      throw new ModelFileError(`cannot quantize weight ${s.name} of dtype ${s.dtype}`);
  }
  return { specs: specs.map((s) => ({ ...s, quantization: { dtype: 'float16' } })), data: out.buffer };
}

export interface SaveOptions {
  float16?: boolean;
  metadata?: Record<string, unknown>;
}

/** Writes model.json + weights.bin into `dir` atomically (a temp dir renamed into place). */
export async function saveModel(model: LayersModel, dir: string, options: SaveOptions = {}): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData)
    throw new ModelFileError('model.save produced no weights');
  let specs = artifacts.weightSpecs;
  let data = new tf.io.CompositeArrayBuffer(artifacts.weightData).slice();
  if (options.float16) ({ specs, data } = quantizeFloat16(specs, data));
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'TensorFlow.js',
    convertedBy: null,
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    ...(options.metadata ? { userDefinedMetadata: options.metadata } : {}),
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, MODEL_FILE), JSON.stringify(json));
  await writeFile(join(tmp, WEIGHTS_FILE), new Uint8Array(data));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/** Model artifacts read from disk, checked before tfjs sees them. */
export async function readModelArtifacts(
  dir: string,
): Promise<tf.io.ModelArtifacts & { metadata?: Record<string, unknown> }> {
  const jsonPath = join(dir, MODEL_FILE);
  if (!existsSync(jsonPath)) {
    throw new ModelFileError(
      `no ${MODEL_FILE} in ${dir}: train the model (fer train) or restore models/ from git`,
    );
  }
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelFileError(`${jsonPath} is not valid JSON (${(err as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(`${jsonPath} is not a tfjs layers model (no modelTopology/weightsManifest)`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(dir, p);
      if (!existsSync(file)) throw new ModelFileError(`weights file ${file} named in ${jsonPath} is missing`);
      buffers.push(await readFile(file));
    }
  }
  const expected = specs.reduce((sum, s) => {
    const count = s.shape.reduce((a, b) => a * b, 1);
    const bytes = s.quantization
      ? s.quantization.dtype === 'float16' || s.quantization.dtype === 'uint16'
        ? 2
        : 1
      : 4;
    return sum + count * bytes;
  }, 0);
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  if (total !== expected) {
    throw new ModelFileError(
      `weights in ${dir} are ${total} bytes but ${jsonPath} describes ${expected}: the files are truncated or mismatched`,
    );
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    joined.set(b, offset);
    offset += b.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: joined.buffer,
    metadata: json.userDefinedMetadata,
  };
}

export async function loadModel(dir: string): Promise<LayersModel> {
  const artifacts = await readModelArtifacts(dir);
  return loadLayersModel(tf.io.fromMemory(artifacts));
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The weights of saved artifacts as float32 arrays, in manifest (= model.weights) order. */
export function weightArrays(
  artifacts: tf.io.ModelArtifacts,
): Array<{ name: string; shape: number[]; values: Float32Array }> {
  const specs = artifacts.weightSpecs ?? [];
  const data = new tf.io.CompositeArrayBuffer(artifacts.weightData).slice();
  const out: Array<{ name: string; shape: number[]; values: Float32Array }> = [];
  let offset = 0;
  for (const s of specs) {
    const count = s.shape.reduce((a, b) => a * b, 1);
    const q = s.quantization?.dtype;
    let values: Float32Array;
    if (!q) {
      if (s.dtype !== 'float32')
        throw new ModelFileError(`weight ${s.name}: dtype ${s.dtype} is not supported`);
      values = new Float32Array(data.slice(offset, offset + count * 4));
      offset += count * 4;
    } else if (q === 'float16') {
      const bits = new Uint16Array(data.slice(offset, offset + count * 2));
      values = Float32Array.from(bits, fromFloat16Bits);
      offset += count * 2;
    } else {
      throw new ModelFileError(`weight ${s.name}: quantization ${q} is not supported`);
    }
    out.push({ name: s.name, shape: s.shape, values });
  }
  return out;
}
