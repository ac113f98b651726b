// Decoding face crops to RGBA in Node: sharp (libvips + mozjpeg/libwebp, native, on libuv's
// thread pool) against the alternatives that install from npm: jpeg-js (pure JavaScript)
// and @jsquash/jpeg + @jsquash/webp (Squoosh's mozjpeg/libwebp compiled to wasm, on the main
// thread). Real crops: 160x160 faces cut from franck.mp4, as JPEG (ffmpeg) and WebP (sharp).
//
//   node bin/run-ts.mjs bench/stream-decode.ts [--rounds 5]
//
// Prints a table and writes bench/results/stream-decode.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCRIPT_OPTIONS } from './script-options.ts';
import sharp from 'sharp';
import jpegJs from 'jpeg-js';
import { decodeCrop } from '@affect/stream-server';
import { videoCrops } from '../tests/support/stream.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: SCRIPT_OPTIONS['stream-decode'] });
const rounds = Number(values.rounds);

// The Squoosh codecs return ImageData, which Node does not have.
(globalThis as { ImageData?: unknown }).ImageData ??= class {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
};
type Decoded = { data: Uint8ClampedArray | Uint8Array; width: number; height: number };
async function squoosh(pkg: '@jsquash/jpeg' | '@jsquash/webp', wasm: string) {
  const mod = (await import(`${pkg}/decode.js`)) as {
    init(module: WebAssembly.Module): Promise<void>;
    default(buffer: ArrayBuffer): Promise<Decoded>;
  };
  const dir = dirname(require.resolve(`${pkg}/package.json`));
  await mod.init(await WebAssembly.compile(readFileSync(join(dir, wasm))));
  return (bytes: Uint8Array) => mod.default(bytes.slice().buffer);
}

const jpegs = videoCrops(64);
const webps = await Promise.all(
  jpegs.map(async (j) => new Uint8Array(await sharp(j).webp({ quality: 80 }).toBuffer())),
);
const squooshJpeg = await squoosh('@jsquash/jpeg', 'codec/dec/mozjpeg_dec.wasm');
const squooshWebp = await squoosh('@jsquash/webp', 'codec/dec/webp_dec.wasm');

interface Decoder {
  name: string;
  format: 'jpeg' | 'webp';
  decode: (bytes: Uint8Array) => Promise<Decoded>;
}
const decoders: Decoder[] = [
  {
    name: 'sharp (server path)',
    format: 'jpeg',
    decode: (b) => decodeCrop(b, 1024).then((c) => ({ data: c.rgba, width: c.width, height: c.height })),
  },
  {
    name: 'jpeg-js',
    format: 'jpeg',
    decode: async (b) => jpegJs.decode(b, { useTArray: true, formatAsRGBA: true }),
  },
  { name: '@jsquash/jpeg (wasm)', format: 'jpeg', decode: squooshJpeg },
  {
    name: 'sharp (server path)',
    format: 'webp',
    decode: (b) => decodeCrop(b, 1024).then((c) => ({ data: c.rgba, width: c.width, height: c.height })),
  },
  { name: '@jsquash/webp (wasm)', format: 'webp', decode: squooshWebp },
];

/** Mean absolute difference of two RGBA images' RGB, to check each decoder sees the same picture. */
function meanAbsDiff(a: Decoded, b: Decoded): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4)
    for (let c = 0; c < 3; c++) sum += Math.abs(a.data[i + c] - b.data[i + c]);
  return sum / ((a.data.length / 4) * 3);
}

const rows: Array<Record<string, string | number>> = [];
for (const d of decoders) {
  const files = d.format === 'jpeg' ? jpegs : webps;
  const reference = await decoders.find((x) => x.format === d.format)!.decode(files[0]);
  const mine = await d.decode(files[0]);
  // One at a time (latency per crop), then a whole batch at once (throughput; sharp overlaps on the pool).
  const serial: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of files) {
      const t0 = performance.now();
      await d.decode(f);
      serial.push(performance.now() - t0);
    }
  }
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) await Promise.all(files.map((f) => d.decode(f)));
  const batchMs = (performance.now() - t0) / (rounds * files.length);
  serial.sort((a, b) => a - b);
  rows.push({
    decoder: d.name,
    format: d.format,
    'bytes/crop': Math.round(files.reduce((s, f) => s + f.byteLength, 0) / files.length),
    'ms/crop (one at a time, p50)': Math.round(serial[serial.length >> 1] * 1000) / 1000,
    'ms/crop (batch of 64)': Math.round(batchMs * 1000) / 1000,
    'mean |Δ| vs sharp': Math.round(meanAbsDiff(mine, reference) * 100) / 100,
  });
}

const headers = Object.keys(rows[0]);
const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
console.log(
  `${jpegs.length} crops of 160x160 from franck.mp4, ${rounds} rounds, ${cpus().length} cores, libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}\n`,
);
console.log(headers.map((h, i) => h.padStart(widths[i])).join('  '));
for (const r of rows) console.log(headers.map((h, i) => String(r[h]).padStart(widths[i])).join('  '));
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, 'stream-decode.json');
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, node: process.version, crops: jpegs.length, rounds, rows }, null, 2)}\n`,
);
console.log(`\nwrote ${file}`);
