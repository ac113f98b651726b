// Where to cut a face out of the frame. The classifiers were trained on FER-style crops: the
// whole face with a little hair and chin, square. BlazeFace's box is tighter than that, so the
// crop grows it by a margin, squares it, and keeps it inside the frame (a crop that ran off the
// edge would come back with black bars the models never saw).
import type { Box, FrameSize } from '../geometry.ts';

/** Default margin, a fraction of the box's longer side added on every side: BlazeFace boxes run
 * from the brow to the chin, FER crops a little wider. */
export const DEFAULT_MARGIN = 0.1;

/**
 * The square, integer-pixel region to crop for a detected face: centred on the box, side
 * max(w, h) · (1 + 2·margin), shifted (not shrunk) to fit inside the frame, and shrunk only
 * when the frame itself is smaller than that.
 */
export function cropRegion(face: Box, frame: FrameSize, margin = DEFAULT_MARGIN): Box {
  const want = Math.max(face.w, face.h) * (1 + 2 * Math.max(0, margin));
  const side = Math.max(1, Math.min(Math.round(want), frame.width, frame.height));
  const cx = face.x + face.w / 2;
  const cy = face.y + face.h / 2;
  const x = clamp(Math.round(cx - side / 2), 0, frame.width - side);
  const y = clamp(Math.round(cy - side / 2), 0, frame.height - side);
  return { x, y, w: side, h: side };
}

/**
 * The side of the encoded crop: the region's own side, capped at maxSide. The server resizes
 * every crop to 48x48 by area averaging, so pixels beyond ~2x that only cost bandwidth.
 */
export function encodedSide(region: Box, maxSide: number): number {
  return Math.max(1, Math.min(Math.round(region.w), Math.round(maxSide)));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), Math.max(lo, hi));
}
