// Compressed face crops → RGBA pixels, with sharp (libvips: libjpeg-turbo/mozjpeg and
// libwebp, on libuv's thread pool, so decoding overlaps inference). bench/decode.ts measures
// it against the alternatives. The format is sniffed from the magic bytes and sharp's pixel
// limit is checked against the header, so a huge or foreign file costs nothing to refuse.
import sharp, { type OutputInfo } from 'sharp';
import type { FaceCrop } from '@affect/gpu';
import type { ErrorCode } from '@affect/protocol';

/** JPEG or WebP from the first bytes; sharp would decode many more formats than clients may send. */
function sniffFormat(b: Uint8Array): 'jpeg' | 'webp' | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** A crop that cannot be used, with the protocol code that says why. */
export class CropError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CropError';
  }
}

export async function decodeCrop(bytes: Uint8Array, maxSide: number): Promise<FaceCrop> {
  if (bytes.byteLength === 0) throw new CropError('empty-crop', 'the crop is empty (0 bytes)');
  if (!sniffFormat(bytes)) throw new CropError('unsupported-image', 'the crop is not a JPEG or WebP file');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // One libvips pipeline: limitInputPixels refuses a bomb from its header before decoding,
    // and failOn 'warning' makes truncated and corrupt files errors instead of grey fill.
    decoded = await sharp(bytes, { failOn: 'warning', limitInputPixels: maxSide * maxSide })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const message = (err as Error).message;
    if (/pixel limit/i.test(message)) {
      throw new CropError(
        'crop-too-large',
        `the crop has more than ${maxSide}x${maxSide} pixels (downscale the face before sending)`,
      );
    }
    throw new CropError('bad-image', `the crop could not be decoded: ${message}`);
  }
  const { data, info } = decoded;
  if (info.width > maxSide || info.height > maxSide) {
    throw new CropError(
      'crop-too-large',
      `the crop is ${info.width}x${info.height}; the largest side allowed is ${maxSide} (downscale the face before sending)`,
    );
  }
  if (info.channels !== 4)
    throw new CropError('bad-image', `decoded to ${info.channels} channels, expected 4`);
  return {
    width: info.width,
    height: info.height,
    rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
