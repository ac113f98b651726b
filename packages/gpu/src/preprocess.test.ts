// preprocess.wgsl on the real adapter against preprocessReference, plus properties that hold
// whatever the reference says (constant colour, scale 1, anti-aliasing, sub-rectangles).
import { afterAll, describe, expect, test } from 'vitest';
import { readFloat32 } from './kernel.ts';
import {
  MAX_BATCH,
  MAX_CROP_SIDE,
  OUT_PIXELS,
  preprocess,
  preprocessBytesMoved,
  type FaceCrop,
  type NormalizeOptions,
} from './preprocess.ts';
import { preprocessReference } from './preprocess-reference.ts';
import {
  countNaN,
  gpuForTests,
  maxAbsDiff,
  poisonedBuffer,
  randomCrop,
  randomInt,
  randomRect,
  seeded,
  type Random,
} from './test-support.ts';

// float32 on the GPU against float64 here; the observed difference is ~2e-6.
const TOL = 1e-4;
const gpu = await gpuForTests();

describe.skipIf(!gpu)('preprocess kernel', () => {
  const ctx = gpu!;
  afterAll(() => gpu?.destroy());

  /** Runs the kernel into a NaN-filled buffer and returns everything in it. */
  async function run(crops: FaceCrop[], opts: NormalizeOptions = {}): Promise<Float32Array> {
    const output = poisonedBuffer(ctx.device, crops.length * OUT_PIXELS);
    try {
      await preprocess(ctx, crops, { ...opts, output });
      return await readFloat32(ctx, output);
    } finally {
      output.destroy();
    }
  }

  const cases: Array<[string, (r: Random) => FaceCrop[]]> = [
    ['1x1 crop (enlarged from one pixel)', (r) => [randomCrop(r, 1, 1)]],
    ['2x3 crop', (r) => [randomCrop(r, 2, 3)]],
    ['48x48 crop (scale 1)', (r) => [randomCrop(r, 48, 48)]],
    ['47x49 (enlarge x, shrink y)', (r) => [randomCrop(r, 47, 49)]],
    ['97x13 non-square', (r) => [randomCrop(r, 97, 13)]],
    ['640x480 frame', (r) => [randomCrop(r, 640, 480)]],
    ['1024x1024, the largest crop', (r) => [randomCrop(r, MAX_CROP_SIDE, MAX_CROP_SIDE)]],
    ['1024x1 and 1x1024', (r) => [randomCrop(r, MAX_CROP_SIDE, 1), randomCrop(r, 1, MAX_CROP_SIDE)]],
    ['integer sub-rectangle', (r) => [randomCrop(r, 200, 150, { rect: { x: 40, y: 30, w: 96, h: 72 } })]],
    [
      'fractional sub-rectangle, shrinking',
      (r) => [randomCrop(r, 300, 300, { rect: { x: 10.3, y: 20.7, w: 150.5, h: 140.25 } })],
    ],
    [
      'fractional sub-rectangle, enlarging',
      (r) => [randomCrop(r, 64, 64, { rect: { x: 3.6, y: 7.2, w: 20.5, h: 30.1 } })],
    ],
    [
      'rectangle reaching the far edges',
      (r) => [randomCrop(r, 100, 90, { rect: { x: 12.5, y: 0.5, w: 87.5, h: 89.5 } })],
    ],
    [
      'tiny fractional rectangle',
      (r) => [randomCrop(r, 9, 7, { rect: { x: 4.4, y: 3.3, w: 0.25, h: 0.5 } })],
    ],
    ['padded rows (stride 64, width 50)', (r) => [randomCrop(r, 50, 40, { stride: 64 })]],
    [
      'batch of 256 mixed sizes and rectangles',
      (r) =>
        Array.from({ length: 256 }, (_, i) => {
          const width = randomInt(r, 1, 160);
          const height = randomInt(r, 1, 160);
          return randomCrop(r, width, height, i % 2 ? { rect: randomRect(r, width, height) } : {});
        }),
    ],
  ];

  test.each(cases.map(([name, make], i) => ({ name, make, seed: 1000 + i })))(
    '$name: matches the reference, every element written',
    async ({ make, seed }) => {
      const crops = make(seeded(seed));
      const got = await run(crops);
      expect(countNaN(got)).toBe(0);
      expect(maxAbsDiff(got, preprocessReference(crops))).toBeLessThan(TOL);
    },
  );

  test('normalisation (x - mean) / std matches the reference', async () => {
    const r = seeded(7);
    const crops = [randomCrop(r, 120, 90), randomCrop(r, 30, 33)];
    const opts = { mean: 0.5, std: 0.25 };
    const got = await run(crops, opts);
    expect(maxAbsDiff(got, preprocessReference(crops, opts))).toBeLessThan(TOL / opts.std);
    // Without normalisation the values stay in [0, 1]; with it they spread to [-2, 2].
    expect(Math.min(...got)).toBeLessThan(-0.5);
  });

  test('the default result is a new [n, 48, 48, 1] buffer tfjs can take zero-copy', async () => {
    const crops = [randomCrop(seeded(8), 64, 64), randomCrop(seeded(9), 20, 20)];
    const result = await preprocess(ctx, crops);
    try {
      expect(result.n).toBe(2);
      expect(result.shape).toEqual([2, 48, 48, 1]);
      expect(result.buffer.size).toBe(2 * OUT_PIXELS * 4);
      const needed = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
      expect(result.buffer.usage & needed).toBe(needed);
      expect(maxAbsDiff(await readFloat32(ctx, result.buffer), preprocessReference(crops))).toBeLessThan(TOL);
    } finally {
      result.buffer.destroy();
    }
  });

  describe('properties independent of the reference', () => {
    function solid(width: number, height: number, [r, g, b]: number[], rect?: FaceCrop['rect']): FaceCrop {
      const rgba = new Uint8Array(width * height * 4);
      for (let i = 0; i < rgba.length; i += 4) rgba.set([r, g, b, 255 - (i % 256)], i);
      return { width, height, rgba, rect };
    }

    test('a solid colour gives its BT.601 luma everywhere, alpha ignored', async () => {
      const colour = [200, 100, 50];
      const luma = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255;
      const crops = [
        solid(1, 1, colour),
        solid(300, 17, colour),
        solid(33, 250, colour, { x: 1.5, y: 2.25, w: 30, h: 7.5 }),
      ];
      for (const v of await run(crops)) expect(v).toBeCloseTo(luma, 5);
    });

    test('a 48x48 crop comes out as its own luma, pixel for pixel', async () => {
      const crop = randomCrop(seeded(11), 48, 48);
      const got = await run([crop]);
      for (let i = 0; i < OUT_PIXELS; i++) {
        const [r, g, b] = crop.rgba.subarray(i * 4, i * 4 + 3);
        expect(got[i]).toBeCloseTo((0.299 * r + 0.587 * g + 0.114 * b) / 255, 5);
      }
    });

    function checkerboard(side: number): FaceCrop {
      const rgba = new Uint8Array(side * side * 4);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++)
          rgba.fill((x + y) % 2 ? 255 : 0, (y * side + x) * 4, (y * side + x) * 4 + 3);
      return { width: side, height: side, rgba };
    }

    test('shrinking a one-pixel checkerboard gives grey, not aliasing patterns', async () => {
      // Point or bilinear sampling would return black/white moiré here; a box filter can't.
      const [exact, ...others] = [96, 1000, 725, 333].map(checkerboard);
      for (const v of await run([exact])) expect(v).toBeCloseTo(0.5, 5);
      for (const v of await run(others)) expect(Math.abs(v - 0.5)).toBeLessThan(0.03);
    });

    test('a sub-rectangle equals preprocessing that part cut out', async () => {
      const r = seeded(12);
      const full = randomCrop(r, 200, 150);
      const cut = new Uint8Array(96 * 72 * 4);
      for (let y = 0; y < 72; y++)
        cut.set(full.rgba.subarray(((30 + y) * 200 + 40) * 4, ((30 + y) * 200 + 136) * 4), y * 96 * 4);
      const [viaRect, viaCut] = [
        await run([{ ...full, rect: { x: 40, y: 30, w: 96, h: 72 } }]),
        await run([{ width: 96, height: 72, rgba: cut }]),
      ];
      expect(maxAbsDiff(viaRect, viaCut)).toBeLessThan(1e-6);
    });

    test('padded rows give the same result as packed rows', async () => {
      const padded = randomCrop(seeded(13), 50, 40, { stride: 64 });
      const packed = new Uint8Array(50 * 40 * 4);
      for (let y = 0; y < 40; y++)
        packed.set(padded.rgba.subarray(y * 64 * 4, (y * 64 + 50) * 4), y * 50 * 4);
      const got = await run([padded, { width: 50, height: 40, rgba: packed }]);
      expect(maxAbsDiff(got.subarray(0, OUT_PIXELS), got.subarray(OUT_PIXELS))).toBe(0);
    });

    test('each crop in a batch comes out as it would alone', async () => {
      const r = seeded(14);
      const crops = [randomCrop(r, 10, 70), randomCrop(r, 500, 20), randomCrop(r, 48, 3)];
      const batch = await run(crops);
      for (const [i, crop] of crops.entries()) {
        expect(maxAbsDiff(batch.subarray(i * OUT_PIXELS, (i + 1) * OUT_PIXELS), await run([crop]))).toBe(0);
      }
    });
  });

  describe('invalid input is rejected with a code, by the kernel and the reference alike', () => {
    const ok = (w = 12, h = 12) => randomCrop(seeded(15), w, h);
    const bad: Array<[string, string, () => FaceCrop[], NormalizeOptions?]> = [
      ['empty batch', 'empty-batch', () => []],
      [
        'crop wider than MAX_CROP_SIDE',
        'crop-size',
        () => [{ width: 1025, height: 2, rgba: new Uint8Array(1025 * 2 * 4) }],
      ],
      ['zero height', 'crop-size', () => [{ width: 5, height: 0, rgba: new Uint8Array(0) }]],
      ['fractional width', 'crop-size', () => [{ width: 4.5, height: 2, rgba: new Uint8Array(36) }]],
      ['rgba one byte short', 'rgba-length', () => [{ ...ok(), rgba: new Uint8Array(12 * 12 * 4 - 1) }]],
      ['rgba with a stride it lacks', 'rgba-length', () => [{ ...ok(), stride: 16 }]],
      ['stride below width', 'crop-stride', () => [{ ...ok(), stride: 11 }]],
      [
        'rect past the right edge',
        'rect-outside-crop',
        () => [{ ...ok(), rect: { x: 5, y: 0, w: 7.5, h: 4 } }],
      ],
      ['rect at negative y', 'rect-outside-crop', () => [{ ...ok(), rect: { x: 0, y: -1, w: 4, h: 4 } }]],
      ['rect of zero width', 'rect-outside-crop', () => [{ ...ok(), rect: { x: 1, y: 1, w: 0, h: 4 } }]],
      ['rect with NaN', 'rect-outside-crop', () => [{ ...ok(), rect: { x: Number.NaN, y: 1, w: 2, h: 4 } }]],
      [
        'one bad crop among good ones',
        'crop-size',
        () => [ok(), ok(), { width: 2000, height: 1, rgba: new Uint8Array(8000) }],
      ],
      ['more than MAX_BATCH crops', 'batch-too-large', () => Array(MAX_BATCH + 1).fill(ok(1, 1))],
      ['std of zero', 'bad-normalization', () => [ok()], { std: 0 }],
    ];

    test.each(bad.map(([name, code, make, opts]) => ({ name, code, make, opts })))(
      '$name → $code',
      async ({ code, make, opts }) => {
        const crops = make();
        expect(() => preprocessReference(crops, opts)).toThrow(expect.objectContaining({ code }));
        await expect(preprocess(ctx, crops, opts)).rejects.toMatchObject({ code, name: 'KernelInputError' });
      },
    );

    test('messages say what was wrong and what to do', async () => {
      await expect(preprocess(ctx, [{ width: 4000, height: 3000, rgba: new Uint8Array(4) }])).rejects.toThrow(
        /crop 0 is 4000x3000; sides must be integers in 1\.\.1024 \(downscale larger faces/,
      );
    });

    test("a batch over the device's storage binding size is rejected before any upload", async () => {
      const big = randomCrop(seeded(16), MAX_CROP_SIDE, MAX_CROP_SIDE); // 4 MiB, shared by every entry
      const count = Math.floor(ctx.device.limits.maxStorageBufferBindingSize / big.rgba.length) + 1;
      await expect(preprocess(ctx, Array(count).fill(big))).rejects.toMatchObject({
        code: 'batch-too-large',
      });
    });

    test('an output buffer that is too small is rejected', async () => {
      const output = poisonedBuffer(ctx.device, OUT_PIXELS);
      try {
        await expect(preprocess(ctx, [ok(), ok()], { output })).rejects.toMatchObject({ code: 'bad-output' });
      } finally {
        output.destroy();
      }
    });
  });
});

test('preprocessBytesMoved counts uploads, reads of covered pixels and the output', () => {
  const crops: FaceCrop[] = [
    { width: 100, height: 80, rgba: new Uint8Array(100 * 80 * 4) },
    { width: 17, height: 31, rgba: new Uint8Array(17 * 31 * 4), rect: { x: 2.5, y: 3, w: 10.2, h: 20 } },
  ];
  expect(preprocessBytesMoved(crops)).toEqual({
    upload: 16 + (100 * 80 * 4 + 32) + (17 * 31 * 4 + 32),
    read: 100 * 80 * 4 + 32 + (13 - 2) * (23 - 3) * 4 + 32,
    written: 2 * 48 * 48 * 4,
  });
});
