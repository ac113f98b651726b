// Crop decoding: the formats clients send decode to RGBA at their size; everything else is a
// CropError with the protocol code the client will see.
import { describe, expect, test } from 'vitest';
import sharp from 'sharp';
import { CropError, decodeCrop } from './decode.ts';

function noise(w: number, h: number, channels: 1 | 3, seed: number): Uint8Array {
  let s = seed;
  return new Uint8Array(w * h * channels).map(() => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}
const raw = (w: number, h: number, channels: 1 | 3, seed = 1) =>
  sharp(noise(w, h, channels, seed), { raw: { width: w, height: h, channels } });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    expect(err).toBeInstanceOf(CropError);
    return (err as CropError).code;
  }
}

describe('decodeCrop', () => {
  test.each([
    ['JPEG colour', () => raw(61, 47, 3).jpeg().toBuffer()],
    ['JPEG grey', () => raw(48, 48, 1).jpeg().toBuffer()],
    ['WebP', () => raw(33, 70, 3).webp().toBuffer()],
    ['WebP lossless', () => raw(20, 20, 3).webp({ lossless: true }).toBuffer()],
  ])('%s → RGBA at its own size', async (_, make) => {
    const file = await make();
    const meta = await sharp(file).metadata();
    const crop = await decodeCrop(new Uint8Array(file), 1024);
    expect([crop.width, crop.height]).toEqual([meta.width, meta.height]);
    expect(crop.rgba.length).toBe(crop.width * crop.height * 4);
  });

  test('lossless WebP decodes to exactly its pixels, grey replicated into R, G and B', async () => {
    const px = noise(16, 16, 3, 9);
    const file = await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    const crop = await decodeCrop(new Uint8Array(file), 1024);
    for (let i = 0; i < 256; i++) {
      expect([crop.rgba[4 * i], crop.rgba[4 * i + 1], crop.rgba[4 * i + 2], crop.rgba[4 * i + 3]]).toEqual([
        px[3 * i],
        px[3 * i + 1],
        px[3 * i + 2],
        255,
      ]);
    }
  });

  test('bad crops are errors with codes', async () => {
    const jpeg = await raw(64, 64, 3).jpeg().toBuffer();
    expect(await codeOf(decodeCrop(new Uint8Array(0), 1024))).toBe('empty-crop');
    expect(await codeOf(decodeCrop(new Uint8Array(jpeg.subarray(0, jpeg.length / 2)), 1024))).toBe(
      'bad-image',
    );
    // Zeros over the header's tables (zeros inside the entropy-coded data still decode: JPEG
    // has no checksum, so that corruption is not detectable).
    const corrupt = Buffer.from(jpeg);
    corrupt.fill(0x00, 200, 400);
    expect(await codeOf(decodeCrop(new Uint8Array(corrupt), 1024))).toBe('bad-image');
    expect(await codeOf(decodeCrop(new TextEncoder().encode('GIF89a but not really'), 1024))).toBe(
      'unsupported-image',
    );
    // JPEG's magic bytes, then garbage.
    const fakeJpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6]);
    expect(await codeOf(decodeCrop(fakeJpeg, 1024))).toBe('bad-image');
    const huge = new Uint8Array(await raw(1100, 1100, 3).jpeg().toBuffer());
    expect(await codeOf(decodeCrop(huge, 1024))).toBe('crop-too-large');
    expect(await codeOf(decodeCrop(new Uint8Array(await raw(8, 8, 3).png().toBuffer()), 1024))).toBe(
      'unsupported-image',
    );
    expect(await codeOf(decodeCrop(new Uint8Array(await raw(300, 20, 3).jpeg().toBuffer()), 256))).toBe(
      'crop-too-large',
    );
  });
});
