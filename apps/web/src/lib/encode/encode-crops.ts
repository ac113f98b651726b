// Cuts face regions out of a frame and compresses each to JPEG or WebP. Runs inside the
// encoder worker on OffscreenCanvas; the canvas is passed in so tests can drive it in Node.
import type { Box } from '../geometry.ts';
import { sniffImage, type CropFormat } from './format.ts';

export interface CropJob {
  /** Source region in frame pixels (square, inside the frame: see crop.ts). */
  region: Box;
  /** Side of the encoded image, pixels. */
  side: number;
}

export interface Canvas2D {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(
      image: never,
      sx: number,
      sy: number,
      sw: number,
      sh: number,
      dx: number,
      dy: number,
      dw: number,
      dh: number,
    ): void;
    imageSmoothingQuality?: string;
  } | null;
  convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
}

export interface EncodedCrops {
  crops: Uint8Array[];
  /** The format actually produced: a browser that can't encode WebP falls back to JPEG. */
  format: CropFormat;
}

/**
 * Encodes every job from `source`. Browsers that can't encode the requested type silently
 * return PNG, which the server refuses; so the result is checked by its magic bytes, and WebP
 * falls back to JPEG (reported in `format`, so the caller can stop asking for WebP).
 */
export async function encodeCrops(
  source: unknown,
  jobs: readonly CropJob[],
  format: CropFormat,
  quality: number,
  makeCanvas: (w: number, h: number) => Canvas2D,
): Promise<EncodedCrops> {
  const crops: Uint8Array[] = [];
  let used = format;
  const canvases = new Map<number, Canvas2D>();
  for (const job of jobs) {
    let canvas = canvases.get(job.side);
    if (!canvas) {
      canvas = makeCanvas(job.side, job.side);
      canvases.set(job.side, canvas);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context on OffscreenCanvas');
    ctx.imageSmoothingQuality = 'high';
    const { x, y, w, h } = job.region;
    ctx.drawImage(source as never, x, y, w, h, 0, 0, job.side, job.side);
    let bytes = await toBytes(canvas, used, quality);
    if (sniffImage(bytes) !== used) {
      if (used === 'image/jpeg')
        throw new Error(`this browser did not encode JPEG (got ${sniffImage(bytes)})`);
      used = 'image/jpeg';
      bytes = await toBytes(canvas, used, quality);
    }
    crops.push(bytes);
  }
  return { crops, format: used };
}

async function toBytes(canvas: Canvas2D, type: CropFormat, quality: number): Promise<Uint8Array> {
  const blob = await canvas.convertToBlob({ type, quality });
  return new Uint8Array(await blob.arrayBuffer());
}
