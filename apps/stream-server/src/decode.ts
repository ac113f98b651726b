// Compressed face crops → RGBA pixels, with sharp (libvips: libjpeg-turbo/mozjpeg and
// libwebp, on libuv's thread pool, so decoding overlaps inference). bench/decode.ts measures
// it against the alternatives. Only the header is read before the size check, so a huge
// image costs nothing to refuse.
import sharp, { type Metadata } from 'sharp';
import type { FaceCrop } from '@affect/gpu';
import type { ErrorCode } from '@affect/protocol';

const FORMATS = new Set(['jpeg', 'webp']);

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
  // failOn 'warning' makes truncated and corrupt files errors instead of grey fill.
  const image = sharp(bytes, { failOn: 'warning', limitInputPixels: maxSide * maxSide });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (err) {
    throw new CropError('bad-image', `the crop is not a readable image: ${(err as Error).message}`);
  }
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw new CropError(
      'unsupported-image',
      `the crop is ${meta.format ?? 'of unknown format'}; send JPEG or WebP`,
    );
  }
  const { width = 0, height = 0 } = meta;
  if (width < 1 || height < 1) throw new CropError('empty-crop', `the crop is ${width}x${height} pixels`);
  if (width > maxSide || height > maxSide) {
    throw new CropError(
      'crop-too-large',
      `the crop is ${width}x${height}; the largest side allowed is ${maxSide} (downscale the face before sending)`,
    );
  }
  try {
    const { data, info } = await image
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`expected 4 channels, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (err) {
    throw new CropError('bad-image', `the crop could not be decoded: ${(err as Error).message}`);
  }
}
