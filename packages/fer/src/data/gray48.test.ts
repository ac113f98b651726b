import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { areaResize, lumaBt601, toGray48 } from './gray48.ts';
import { seededRandom } from './testing.ts';

const random = seededRandom(5);
const randomBytes = (n: number) => new Uint8Array(n).map(() => Math.floor(random() * 256));

/** Reference area resampling: integrate the input over each output cell on a fine grid. */
function areaReference(plane: Float32Array, side: number, out: number): Float64Array {
  const result = new Float64Array(out * out);
  const scale = side / out;
  const steps = 100; // sub-samples per output pixel edge; input pixel edges fall on this grid at scale 2.5
  for (let oy = 0; oy < out; oy++) {
    for (let ox = 0; ox < out; ox++) {
      let acc = 0;
      for (let sy = 0; sy < steps; sy++) {
        const y = Math.floor((oy + (sy + 0.5) / steps) * scale);
        for (let sx = 0; sx < steps; sx++) {
          const x = Math.floor((ox + (sx + 0.5) / steps) * scale);
          acc += plane[y * side + x];
        }
      }
      result[oy * out + ox] = acc / (steps * steps);
    }
  }
  return result;
}

describe('areaResize', () => {
  it('matches a brute-force area integral on a non-integer scale', () => {
    const side = 10;
    const plane = Float32Array.from(randomBytes(side * side));
    const got = areaResize(plane, side, 4); // 2.5 input pixels per output pixel
    const want = areaReference(plane, side, 4);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it('is the block mean on integer scales and the identity at 48', () => {
    const plane = Float32Array.from(randomBytes(96 * 96));
    const got = areaResize(plane, 96, 48);
    const y = 7,
      x = 31;
    const block =
      (plane[2 * y * 96 + 2 * x] +
        plane[2 * y * 96 + 2 * x + 1] +
        plane[(2 * y + 1) * 96 + 2 * x] +
        plane[(2 * y + 1) * 96 + 2 * x + 1]) /
      4;
    expect(got[y * 48 + x]).toBeCloseTo(block, 9);
    const same = Float32Array.from(randomBytes(48 * 48));
    expect([...areaResize(same, 48, 48)]).toEqual([...same]);
  });
});

describe('toGray48', () => {
  it('uses BT.601 luma on colour images, rounded once', async () => {
    const rgb = randomBytes(48 * 48 * 3);
    const png = await sharp(rgb, { raw: { width: 48, height: 48, channels: 3 } })
      .png()
      .toBuffer();
    const gray = await toGray48(png);
    const luma = lumaBt601(rgb, 48, 48);
    for (let i = 0; i < 2304; i++) {
      expect(gray[i]).toBe(Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]));
      expect(Math.abs(gray[i] - luma[i])).toBeLessThanOrEqual(0.5);
    }
  });

  it('crops the centre square of a non-square image', async () => {
    const face = randomBytes(48 * 48);
    const tall = new Uint8Array(48 * 60).map(() => 255);
    tall.set(face, 6 * 48); // 6 white rows above and below
    const png = await sharp(tall, { raw: { width: 48, height: 60, channels: 1 } })
      .png()
      .toBuffer();
    expect([...(await toGray48(png))]).toEqual([...face]);
  });

  it('upscales images smaller than 48x48 and rejects undecodable bytes', async () => {
    const small = await sharp(randomBytes(20 * 20), { raw: { width: 20, height: 20, channels: 1 } })
      .png()
      .toBuffer();
    expect(await toGray48(small)).toHaveLength(2304);
    await expect(toGray48(randomBytes(500))).rejects.toThrow();
  });
});
