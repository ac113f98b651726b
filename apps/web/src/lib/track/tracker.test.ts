import { describe, expect, test } from 'vitest';
import { FaceTracker } from './tracker.ts';
import { seeded } from '../testing.ts';
import type { Box } from '../geometry.ts';

function jitter(b: Box, random: () => number, px: number): Box {
  const d = () => (random() - 0.5) * 2 * px;
  return { x: b.x + d(), y: b.y + d(), w: b.w + d(), h: b.h + d() };
}

describe('FaceTracker', () => {
  test('three moving, jittering faces keep their IDs whatever order the detector lists them in', () => {
    const random = seeded(11);
    const tracker = new FaceTracker();
    let faces: Box[] = [
      { x: 40, y: 60, w: 90, h: 90 },
      { x: 260, y: 50, w: 70, h: 70 },
      { x: 450, y: 200, w: 120, h: 120 },
    ];
    const first = tracker.update(faces, 0);
    expect(new Set(first).size).toBe(3);
    for (let frame = 1; frame < 300; frame++) {
      // Each face drifts a few pixels per frame; the detector adds noise and shuffles them.
      faces = faces.map((f, i) => ({
        ...f,
        x: f.x + Math.sin(frame / 20 + i) * 3,
        y: f.y + Math.cos(frame / 25) * 2,
      }));
      const order = [0, 1, 2].sort(() => random() - 0.5);
      const ids = tracker.update(
        order.map((i) => jitter(faces[i], random, 4)),
        frame * 33,
      );
      order.forEach((faceIndex, k) => expect(ids[k]).toBe(first[faceIndex]));
    }
  });

  test('a face missed for a few frames keeps its ID; one gone longer gets a new one', () => {
    const tracker = new FaceTracker({ minIou: 0.25, maxMissed: 3 });
    const face = { x: 100, y: 100, w: 80, h: 80 };
    const [id] = tracker.update([face], 0);
    tracker.update([], 1);
    tracker.update([], 2);
    expect(tracker.update([face], 3)).toEqual([id]);
    for (let i = 0; i < 4; i++) tracker.update([], 4 + i);
    expect(tracker.tracks).toHaveLength(0);
    const [again] = tracker.update([face], 10);
    expect(again).not.toBe(id);
  });

  test('a new face elsewhere gets a new ID and does not steal an existing one', () => {
    const tracker = new FaceTracker();
    const [a] = tracker.update([{ x: 0, y: 0, w: 100, h: 100 }], 0);
    const ids = tracker.update(
      [
        { x: 300, y: 0, w: 100, h: 100 },
        { x: 5, y: 5, w: 100, h: 100 },
      ],
      1,
    );
    expect(ids[1]).toBe(a);
    expect(ids[0]).toBeGreaterThan(a);
  });

  test('two detections overlapping one track: the better overlap continues it', () => {
    const tracker = new FaceTracker();
    const [a] = tracker.update([{ x: 0, y: 0, w: 100, h: 100 }], 0);
    const ids = tracker.update(
      [
        { x: 40, y: 0, w: 100, h: 100 },
        { x: 10, y: 0, w: 100, h: 100 },
      ],
      1,
    );
    expect(ids[1]).toBe(a);
    expect(ids[0]).not.toBe(a);
  });
});
