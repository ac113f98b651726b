import { describe, expect, test } from 'vitest';
import { encodeCrops, type Canvas2D } from './encode-crops.ts';
import { sniffImage, type CropFormat } from './format.ts';
import { seeded } from '../testing.ts';

const MAGIC: Record<string, number[]> = {
  'image/jpeg': [0xff, 0xd8, 0xff, 0xe0],
  'image/webp': [...'RIFF']
    .map((c) => c.charCodeAt(0))
    .concat(
      [0, 0, 0, 0],
      [...'WEBP'].map((c) => c.charCodeAt(0)),
    ),
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
};

/** A canvas that records what is drawn and "encodes" to the magic bytes of what it supports. */
function fakeCanvases(supports: CropFormat[]) {
  const draws: { canvas: number; args: number[] }[] = [];
  const made: { w: number; h: number }[] = [];
  const make = (w: number, h: number): Canvas2D => {
    const index = made.length;
    made.push({ w, h });
    return {
      width: w,
      height: h,
      getContext: () => ({
        drawImage: (_img: never, ...args: number[]) => draws.push({ canvas: index, args }),
      }),
      // Like browsers: an unsupported type silently gives PNG.
      convertToBlob: async ({ type }) => {
        const t = supports.includes(type as CropFormat) ? type : 'image/png';
        return new Blob([new Uint8Array([...MAGIC[t], draws.length])], { type: t });
      },
    };
  };
  return { make, draws, made };
}

describe('encodeCrops', () => {
  test('draws each region scaled to its side and returns one file per crop, in order', async () => {
    const random = seeded(2);
    const jobs = Array.from({ length: 5 }, () => {
      const side = 20 + Math.floor(random() * 300);
      return {
        region: { x: Math.floor(random() * 300), y: Math.floor(random() * 200), w: side, h: side },
        side: Math.min(side, 96),
      };
    });
    const { make, draws, made } = fakeCanvases(['image/jpeg', 'image/webp']);
    const out = await encodeCrops({}, jobs, 'image/webp', 0.9, make);
    expect(out.format).toBe('image/webp');
    expect(out.crops).toHaveLength(5);
    out.crops.forEach((c, i) => {
      expect(sniffImage(c)).toBe('image/webp');
      expect(c.at(-1)).toBe(i + 1); // encoded right after its own draw
    });
    draws.forEach((d, i) => {
      const { region, side } = jobs[i];
      expect(d.args).toEqual([region.x, region.y, region.w, region.h, 0, 0, side, side]);
      expect(made[d.canvas]).toEqual({ w: side, h: side });
    });
  });

  test('a browser that cannot encode WebP (gives PNG) falls back to JPEG, and says so', async () => {
    const { make } = fakeCanvases(['image/jpeg']);
    const jobs = [
      { region: { x: 0, y: 0, w: 50, h: 50 }, side: 50 },
      { region: { x: 10, y: 10, w: 50, h: 50 }, side: 50 },
    ];
    const out = await encodeCrops({}, jobs, 'image/webp', 0.9, make);
    expect(out.format).toBe('image/jpeg');
    expect(out.crops.map(sniffImage)).toEqual(['image/jpeg', 'image/jpeg']);
  });

  test('no JPEG either is an error, not a PNG sent to the server', async () => {
    const { make } = fakeCanvases([]);
    await expect(
      encodeCrops({}, [{ region: { x: 0, y: 0, w: 9, h: 9 }, side: 9 }], 'image/jpeg', 0.9, make),
    ).rejects.toThrow(/did not encode JPEG \(got image\/png\)/);
  });
});

describe('sniffImage', () => {
  test('tells the formats apart by their first bytes', () => {
    expect(sniffImage(new Uint8Array(MAGIC['image/jpeg']))).toBe('image/jpeg');
    expect(sniffImage(new Uint8Array(MAGIC['image/webp']))).toBe('image/webp');
    expect(sniffImage(new Uint8Array(MAGIC['image/png']))).toBe('image/png');
    expect(sniffImage(new Uint8Array([1, 2, 3]))).toBe('unknown');
  });
});
