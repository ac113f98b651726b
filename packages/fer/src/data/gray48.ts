// Turns any image file into the 48x48 grey pixels the models see. sharp decodes (JPEG, PNG,
// WebP, any colour space or bit depth, EXIF rotation); the grey conversion and the resize
// are done here on float planes so each output pixel is rounded exactly once.
import sharp from 'sharp';
import { IMAGE_BYTES, IMAGE_SIDE } from './format.ts';

/** ITU-R BT.601 luma weights, the grey FER2013 and most face datasets were made with. */
export const BT601 = Object.freeze({ r: 0.299, g: 0.587, b: 0.114 });

/** Decodes an encoded image (bytes or a path) to 48x48 grey, row-major. Throws if it cannot be decoded. */
export async function toGray48(input: Uint8Array | string): Promise<Uint8Array> {
  const { data, info } = await sharp(input)
    .autoOrient()
    // Transparent pixels become black, as most decoders show them; face crops rarely have alpha.
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after sRGB conversion, got ${info.channels}`);
  const luma = lumaBt601(data, info.width, info.height);
  const { plane, side } = centreSquare(luma, info.width, info.height);
  if (side >= IMAGE_SIDE) return roundToBytes(areaResize(plane, side, IMAGE_SIDE));
  return upscale(roundToBytes(plane), side);
}

/** Y = 0.299 R + 0.587 G + 0.114 B on the gamma-encoded values, unrounded. */
export function lumaBt601(rgb: Uint8Array, width: number, height: number): Float32Array {
  const luma = new Float32Array(width * height);
  for (let i = 0, j = 0; i < luma.length; i++, j += 3) {
    luma[i] = BT601.r * rgb[j] + BT601.g * rgb[j + 1] + BT601.b * rgb[j + 2];
  }
  return luma;
}

/**
 * The centred square crop. Squashing a non-square photo into 48x48 would change the face's
 * proportions, which carry the expression; cropping the margins keeps them.
 */
export function centreSquare(
  plane: Float32Array,
  width: number,
  height: number,
): { plane: Float32Array; side: number } {
  if (width === height) return { plane, side: width };
  const side = Math.min(width, height);
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    out.set(plane.subarray((top + y) * width + left, (top + y) * width + left + side), y * side);
  return { plane: out, side };
}

/**
 * Area (box) downscaling of a square plane: each output pixel is the mean of the input area
 * it covers, fractional edge pixels weighted by overlap. Unlike point sampling it cannot
 * alias, and on integer factors it is the plain block mean.
 */
export function areaResize(plane: Float32Array, side: number, outSide: number): Float64Array {
  if (outSide > side) throw new RangeError(`areaResize only shrinks (${side} → ${outSide})`);
  const taps = areaTaps(side, outSide);
  const rows = new Float64Array(side * outSide); // horizontal pass: side rows x outSide columns
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < outSide; x++) {
      let acc = 0;
      for (const [j, w] of taps[x]) acc += w * plane[y * side + j];
      rows[y * outSide + x] = acc;
    }
  }
  const out = new Float64Array(outSide * outSide);
  for (let y = 0; y < outSide; y++) {
    for (let x = 0; x < outSide; x++) {
      let acc = 0;
      for (const [j, w] of taps[y]) acc += w * rows[j * outSide + x];
      out[y * outSide + x] = acc;
    }
  }
  return out;
}

/** For each output index, the input indices it covers and their weights (summing to 1). */
function areaTaps(n: number, m: number): Array<Array<[number, number]>> {
  const scale = n / m;
  return Array.from({ length: m }, (_, i) => {
    const start = i * scale;
    const end = (i + 1) * scale;
    const taps: Array<[number, number]> = [];
    for (let j = Math.floor(start); j < Math.min(n, Math.ceil(end)); j++) {
      const overlap = Math.min(end, j + 1) - Math.max(start, j);
      if (overlap > 0) taps.push([j, overlap / scale]);
    }
    return taps;
  });
}

function roundToBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(values[i])));
  return out;
}

/** Images smaller than 48x48 have no area to average; sharp's cubic interpolation fills in. */
async function upscale(gray: Uint8Array, side: number): Promise<Uint8Array> {
  const out = await sharp(gray, { raw: { width: side, height: side, channels: 1 } })
    .resize(IMAGE_SIDE, IMAGE_SIDE, { kernel: 'cubic', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  if (out.length !== IMAGE_BYTES) throw new Error(`upscaled to ${out.length} bytes, expected ${IMAGE_BYTES}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
