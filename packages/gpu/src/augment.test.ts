// augment.wgsl on the real adapter against augmentReference, plus hand-checkable cases.
import { afterAll, describe, expect, test } from 'vitest';
import { augment, augmentBytesMoved } from './augment.ts';
import {
  augmentParams,
  IDENTITY_AUGMENT,
  inverseMapping,
  type AugmentParams,
  type EraseRect,
} from './augment-params.ts';
import { augmentReference } from './augment-reference.ts';
import { readFloat32 } from './kernel.ts';
import { OUT_PIXELS, OUT_SIDE } from './preprocess.ts';
import { countNaN, gpuForTests, maxAbsDiff, randomImages, seeded } from './test-support.ts';

const TOL = 1e-4;
const gpu = await gpuForTests();

describe.skipIf(!gpu)('augment kernel', () => {
  const ctx = gpu!;
  afterAll(() => gpu?.destroy());

  async function run(input: GPUBuffer | Float32Array, params: AugmentParams[]): Promise<Float32Array> {
    const output = await augment(ctx, input, params);
    try {
      return await readFloat32(ctx, output);
    } finally {
      output.destroy();
    }
  }

  const wild = { rotationDeg: 180, zoom: [0.5, 2] as [number, number], translate: 0.5, brightness: 0.5 };
  test.each([
    { name: 'one image, default ranges', n: 1, ranges: {} },
    { name: '7 images, default ranges', n: 7, ranges: {} },
    { name: '256 images, default ranges', n: 256, ranges: {} },
    { name: '64 images, wild ranges (edges, clamping)', n: 64, ranges: wild },
    { name: '64 images, random erasing on most', n: 64, ranges: { eraseProbability: 0.8 } },
    {
      name: '32 images, wild ranges and large erases',
      n: 32,
      ranges: { ...wild, eraseProbability: 1, eraseArea: [0.3, 1] as [number, number] },
    },
  ])('$name: matches the reference, every element written', async ({ n, ranges }) => {
    const images = randomImages(seeded(n), n * OUT_PIXELS);
    const params = augmentParams(n, 42 + n, ranges);
    const got = await run(images, params);
    expect(got.length).toBe(n * OUT_PIXELS);
    expect(countNaN(got)).toBe(0);
    expect(maxAbsDiff(got, augmentReference(images, params))).toBeLessThan(TOL);
  });

  test('takes its input from a GPU buffer as well', async () => {
    const images = randomImages(seeded(3), 3 * OUT_PIXELS);
    const input = ctx.device.createBuffer({
      size: images.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    ctx.device.queue.writeBuffer(input, 0, images);
    const params = augmentParams(3, 5);
    try {
      expect(maxAbsDiff(await run(input, params), augmentReference(images, params))).toBeLessThan(TOL);
    } finally {
      input.destroy();
    }
  });

  test('the same seed gives the same parameters and bit-identical output', async () => {
    const images = randomImages(seeded(4), 16 * OUT_PIXELS);
    expect(augmentParams(16, 99)).toEqual(augmentParams(16, 99));
    expect(augmentParams(16, 99)).not.toEqual(augmentParams(16, 100));
    const [a, b] = [await run(images, augmentParams(16, 99)), await run(images, augmentParams(16, 99))];
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, await run(images, augmentParams(16, 100)))).toBeGreaterThan(0.1);
  });

  test('identity parameters return the input exactly', async () => {
    const images = randomImages(seeded(5), 4 * OUT_PIXELS);
    const params = Array(4).fill(IDENTITY_AUGMENT);
    expect(await run(images, params)).toEqual(images);
    expect(augmentReference(images, params)).toEqual(images);
  });

  function dot(x: number, y: number): Float32Array {
    const image = new Float32Array(OUT_PIXELS);
    image[y * OUT_SIDE + x] = 1;
    return image;
  }

  test('flip mirrors left-right: a dot at (3, 10) lands at (44, 10)', async () => {
    const flipped = await run(dot(3, 10), [{ ...IDENTITY_AUGMENT, flip: true }]);
    expect(flipped).toEqual(dot(44, 10));
    // And a horizontal ramp x / 47 becomes (47 - x) / 47.
    const ramp = Float32Array.from({ length: OUT_PIXELS }, (_, i) => (i % OUT_SIDE) / 47);
    const got = await run(ramp, [{ ...IDENTITY_AUGMENT, flip: true }]);
    for (let i = 0; i < OUT_PIXELS; i++) expect(got[i]).toBeCloseTo((47 - (i % OUT_SIDE)) / 47, 6);
  });

  test('a positive rotation turns clockwise on screen: 90° takes (30, 10) to (37, 30)', async () => {
    const got = await run(dot(30, 10), [{ ...IDENTITY_AUGMENT, rotation: Math.PI / 2 }]);
    expect(got[30 * OUT_SIDE + 37]).toBeCloseTo(1, 5);
    expect(got.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  test('translation moves content by whole pixels; zoom 2 doubles distances from the centre', async () => {
    const moved = await run(dot(20, 20), [{ ...IDENTITY_AUGMENT, translateX: 5, translateY: -3 }]);
    expect(moved).toEqual(dot(25, 17));
    // The centre is (23.5, 23.5): a pixel block around (27.5, 23.5) moves to (31.5, 23.5).
    const block = new Float32Array(OUT_PIXELS);
    for (const [x, y] of [
      [27, 23],
      [28, 23],
      [27, 24],
      [28, 24],
    ])
      block[y * OUT_SIDE + x] = 1;
    const zoomed = await run(block, [{ ...IDENTITY_AUGMENT, zoom: 2 }]);
    expect(zoomed[23 * OUT_SIDE + 31] + zoomed[23 * OUT_SIDE + 32]).toBeCloseTo(2, 5);
  });

  test('brightness and contrast act about mid-grey and clamp to [0, 1]', async () => {
    const grey = (v: number) => new Float32Array(OUT_PIXELS).fill(v);
    const cases: Array<[number, Partial<AugmentParams>, number]> = [
      [0.5, { contrast: 2 }, 0.5],
      [0.7, { contrast: 2 }, 0.9],
      [0.3, { brightness: 0.1 }, 0.4],
      [0.9, { contrast: 2 }, 1],
      [0.05, { brightness: -0.2 }, 0],
    ];
    for (const [input, change, expected] of cases) {
      const got = await run(grey(input), [{ ...IDENTITY_AUGMENT, ...change }]);
      for (const v of got) expect(v).toBeCloseTo(expected, 5);
    }
  });

  test('an erase sets exactly its rectangle to its grey, after brightness and contrast', async () => {
    const images = randomImages(seeded(8), 2 * OUT_PIXELS);
    const erase = { x: 5, y: 40, width: 43, height: 8, value: 0.25 };
    const params = [
      { ...IDENTITY_AUGMENT, contrast: 2, erase },
      { ...IDENTITY_AUGMENT, erase: { x: 0, y: 0, width: 1, height: 1, value: 1 } },
    ];
    const got = await run(images, params);
    expect(maxAbsDiff(got, augmentReference(images, params))).toBeLessThan(TOL);
    for (let y = 0; y < OUT_SIDE; y++) {
      for (let x = 0; x < OUT_SIDE; x++) {
        const i = y * OUT_SIDE + x;
        const inside = x >= 5 && y >= 40;
        const contrasted = Math.min(1, Math.max(0, (images[i] - 0.5) * 2 + 0.5));
        expect(got[i]).toBeCloseTo(inside ? 0.25 : contrasted, 5);
        expect(got[OUT_PIXELS + i]).toBeCloseTo(i === 0 ? 1 : images[OUT_PIXELS + i], 5);
      }
    }
  });

  test('invalid input is rejected by the kernel and the reference alike', async () => {
    const images = randomImages(seeded(6), 2 * OUT_PIXELS);
    // An erase outside the image, empty, off the pixel grid or with a grey outside [0, 1].
    const badErase = (change: Partial<EraseRect>): [Float32Array, AugmentParams[], string] => [
      images,
      [{ ...IDENTITY_AUGMENT, erase: { x: 0, y: 0, width: 4, height: 4, value: 0.5, ...change } }],
      'bad-params',
    ];
    const cases: Array<[Float32Array, AugmentParams[], string]> = [
      [images, [], 'empty-batch'],
      [images, augmentParams(3, 1), 'input-length'],
      [images, [{ ...IDENTITY_AUGMENT, zoom: 0 }], 'bad-params'],
      [images, [{ ...IDENTITY_AUGMENT, rotation: Number.NaN }], 'bad-params'],
      ...[{ x: 40, width: 9 }, { width: 0 }, { x: 1.5 }, { value: 1.5 }].map(badErase),
    ];
    for (const [input, params, code] of cases) {
      expect(() => augmentReference(input, params)).toThrow(expect.objectContaining({ code }));
      await expect(augment(ctx, input, params)).rejects.toMatchObject({ code });
    }
  });
});

test('augmentParams stays inside its ranges and flips about half the time', () => {
  const params = augmentParams(2000, 1);
  const deg = (r: number) => (r * 180) / Math.PI;
  for (const p of params) {
    expect(Math.abs(deg(p.rotation))).toBeLessThanOrEqual(15);
    expect(p.zoom).toBeGreaterThanOrEqual(0.9);
    expect(p.zoom).toBeLessThanOrEqual(1.1);
    expect(Math.max(Math.abs(p.translateX), Math.abs(p.translateY))).toBeLessThanOrEqual(4.8);
    expect(Math.abs(p.brightness)).toBeLessThanOrEqual(0.1);
    expect(p.contrast).toBeGreaterThanOrEqual(0.8);
    expect(p.contrast).toBeLessThanOrEqual(1.2);
  }
  const flips = params.filter((p) => p.flip).length;
  expect(flips).toBeGreaterThan(900);
  expect(flips).toBeLessThan(1100);
  expect(Math.max(...params.map((p) => Math.abs(deg(p.rotation))))).toBeGreaterThan(14);
});

test('augmentParams draws no erase by default; with a probability, erases inside the image at the drawn sizes', () => {
  expect(augmentParams(500, 3).some((p) => p.erase !== undefined)).toBe(false);
  const params = augmentParams(2000, 3, { eraseProbability: 0.5 });
  const erased = params.filter((p) => p.erase !== undefined);
  expect(erased.length).toBeGreaterThan(900);
  expect(erased.length).toBeLessThan(1100);
  for (const { erase: e } of erased) {
    expect(e!.x).toBeGreaterThanOrEqual(0);
    expect(e!.y).toBeGreaterThanOrEqual(0);
    expect(e!.x + e!.width).toBeLessThanOrEqual(OUT_SIDE);
    expect(e!.y + e!.height).toBeLessThanOrEqual(OUT_SIDE);
    expect(Number.isInteger(e!.x) && Number.isInteger(e!.width)).toBe(true);
    // Rounding each side to whole pixels moves the area a little outside [0.02, 0.2] of 2304.
    expect(e!.width * e!.height).toBeGreaterThan(0.01 * OUT_PIXELS);
    expect(e!.width * e!.height).toBeLessThan(0.24 * OUT_PIXELS);
    expect(e!.height / e!.width).toBeGreaterThan(0.2);
    expect(e!.height / e!.width).toBeLessThan(4.5);
    expect(e!.value).toBeGreaterThanOrEqual(0);
    expect(e!.value).toBeLessThan(1);
  }
  // Both edges get erased, so the placement covers the whole image.
  expect(erased.some((p) => p.erase!.x === 0)).toBe(true);
  expect(erased.some((p) => p.erase!.x + p.erase!.width === OUT_SIDE)).toBe(true);
});

test("erasing draws after a sample's other parameters, so a seed gives the same first sample with or without it", () => {
  const plain = augmentParams(400, 17);
  const erased = augmentParams(400, 17, { eraseProbability: 1 });
  expect(erased.every((p) => p.erase !== undefined)).toBe(true);
  const { erase: _, ...first } = erased[0];
  expect(first).toEqual(plain[0]);
  // Later samples differ: the erase draws shift the stream.
  const { erase: __, ...second } = erased[1];
  expect(second).not.toEqual(plain[1]);
});

test('inverseMapping of the identity is exactly the identity', () => {
  expect(inverseMapping(IDENTITY_AUGMENT)).toMatchObject({
    a: 1,
    b: 0,
    d: 1,
    tx: 0,
    ty: 0,
    gain: 1,
    offset: 0,
  });
});

test('augmentBytesMoved: one read and one write of each image, plus the records', () => {
  expect(augmentBytesMoved(10)).toEqual({ upload: 640, read: 10 * (9216 + 64), written: 10 * 9216 });
  expect(augmentBytesMoved(10, false).upload).toBe(640 + 10 * 9216);
});
