import { describe, expect, test } from 'vitest';
import { cropRegion, encodedSide } from './crop.ts';
import { seeded } from '../testing.ts';

describe('cropRegion', () => {
  test('grows a centred box by the margin on every side and squares it', () => {
    const r = cropRegion({ x: 100, y: 80, w: 60, h: 80 }, { width: 640, height: 480 }, 0.25);
    // side = 80 · 1.5 = 120, centred on (130, 120)
    expect(r).toEqual({ x: 70, y: 60, w: 120, h: 120 });
  });

  test('random boxes: always a square inside the frame that contains the face when it fits', () => {
    const random = seeded(7);
    for (let i = 0; i < 2000; i++) {
      const frame = { width: 50 + Math.floor(random() * 1200), height: 50 + Math.floor(random() * 900) };
      const w = 1 + random() * frame.width * 0.8;
      const h = 1 + random() * frame.height * 0.8;
      // Faces may stick out of the frame a little, as detections at the edge do.
      const face = { x: -w * 0.2 + random() * frame.width, y: -h * 0.2 + random() * frame.height, w, h };
      const margin = random() * 0.5;
      const r = cropRegion(face, frame, margin);
      expect(r.w).toBe(r.h);
      expect(Number.isInteger(r.x) && Number.isInteger(r.y) && Number.isInteger(r.w)).toBe(true);
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.x + r.w).toBeLessThanOrEqual(frame.width);
      expect(r.y + r.h).toBeLessThanOrEqual(frame.height);
      const want = Math.round(Math.max(w, h) * (1 + 2 * margin));
      expect(r.w).toBe(Math.max(1, Math.min(want, frame.width, frame.height)));
      const inside = face.x >= 0 && face.y >= 0 && face.x + w <= frame.width && face.y + h <= frame.height;
      if (inside && r.w === want) {
        expect(r.x).toBeLessThanOrEqual(Math.ceil(face.x));
        expect(r.y).toBeLessThanOrEqual(Math.ceil(face.y));
        expect(r.x + r.w).toBeGreaterThanOrEqual(Math.floor(face.x + w));
        expect(r.y + r.h).toBeGreaterThanOrEqual(Math.floor(face.y + h));
      }
    }
  });

  test('a face at the edge is shifted in, not cut', () => {
    const r = cropRegion({ x: 600, y: -10, w: 80, h: 80 }, { width: 640, height: 480 }, 0.2);
    expect(r).toEqual({ x: 528, y: 0, w: 112, h: 112 });
  });
});

describe('encodedSide', () => {
  test('keeps small crops as they are and caps large ones', () => {
    expect(encodedSide({ x: 0, y: 0, w: 40, h: 40 }, 96)).toBe(40);
    expect(encodedSide({ x: 0, y: 0, w: 300, h: 300 }, 96)).toBe(96);
  });
});
