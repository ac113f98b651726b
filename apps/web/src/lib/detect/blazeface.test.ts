import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import {
  BlazeFaceDetector,
  blazefaceAnchors,
  decodeDetections,
  weightedNms,
  type Detection,
} from './blazeface.ts';
import { detectorIOHandler } from '../server/detector-files.ts';
import { iou } from '../geometry.ts';
import { seeded } from '../testing.ts';

describe('blazefaceAnchors', () => {
  test('896 anchors: 16x16 cells with 2 each, then 8x8 with 6 each, centred in their cells', () => {
    const a = blazefaceAnchors(256);
    expect(a.length).toBe(896 * 2);
    expect([a[0], a[1], a[2], a[3], a[4], a[5]]).toEqual([8, 8, 8, 8, 24, 8]);
    // first anchor of the 8x8 layer
    expect([a[512 * 2], a[512 * 2 + 1]]).toEqual([16, 16]);
    expect([a[895 * 2], a[895 * 2 + 1]]).toEqual([240, 240]);
  });
});

describe('decodeDetections', () => {
  test('one confident anchor becomes one box at its offset, scaled to the frame', () => {
    const anchors = blazefaceAnchors(256);
    const logits = new Float32Array(896).fill(-10);
    const regs = new Float32Array(896 * 16);
    const i = 600; // an 8x8-layer anchor
    logits[i] = 3;
    regs.set([4, -6, 40, 50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], i * 16);
    const [d, ...rest] = decodeDetections(logits, regs, anchors, { sx: 2.5, sy: 2.5 });
    expect(rest).toEqual([]);
    const ax = anchors[2 * i];
    const ay = anchors[2 * i + 1];
    expect(d.score).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    expect(d.box.x).toBeCloseTo((ax + 4 - 20) * 2.5, 4);
    expect(d.box.y).toBeCloseTo((ay - 6 - 25) * 2.5, 4);
    expect(d.box.w).toBeCloseTo(100, 4);
    expect(d.box.h).toBeCloseTo(125, 4);
    expect(d.keypoints[0]).toEqual([(ax + 1) * 2.5, (ay + 2) * 2.5]);
  });

  test('rejects outputs that do not match the anchors', () => {
    expect(() =>
      decodeDetections(new Float32Array(10), new Float32Array(160), blazefaceAnchors(256), { sx: 1, sy: 1 }),
    ).toThrow(/don't match 896 anchors/);
  });
});

describe('weightedNms', () => {
  test('random clusters around separated faces merge into one box each, near the cluster mean', () => {
    const random = seeded(21);
    const centres = [
      { x: 100, y: 100 },
      { x: 400, y: 120 },
      { x: 250, y: 380 },
    ];
    const dets: Detection[] = [];
    for (const c of centres) {
      for (let k = 0; k < 6; k++) {
        const j = () => (random() - 0.5) * 10;
        dets.push({
          box: { x: c.x - 50 + j(), y: c.y - 50 + j(), w: 100 + j(), h: 100 + j() },
          score: 0.6 + random() * 0.4,
          keypoints: Array.from({ length: 6 }, () => [c.x + j(), c.y + j()] as [number, number]),
        });
      }
    }
    const out = weightedNms(
      dets.sort(() => random() - 0.5),
      0.3,
      10,
    );
    expect(out).toHaveLength(3);
    for (const c of centres) {
      const match = out.find((d) => Math.hypot(d.box.x + d.box.w / 2 - c.x, d.box.y + d.box.h / 2 - c.y) < 6);
      expect(match).toBeDefined();
    }
    // best first
    expect(out[0].score).toBeGreaterThanOrEqual(out[1].score);
    expect(weightedNms(dets, 0.3, 2)).toHaveLength(2);
  });
});

// The real model on real frames of franck.mp4 (360x288; his face is near x 115-275, y 75-235).
const root = resolve(fileURLToPath(import.meta.url), '../../../../../..');
const video = resolve(root, '../shared/data/video/franck.mp4');
const haveVideo = existsSync(video) && hasFfmpeg();
if (!haveVideo) {
  const why = `franck.mp4 or ffmpeg missing (${video})`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must provide them`);
  console.warn(`${why}; skipping the detector tests on real frames`);
}

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One RGB frame of the video at `seconds`, as [288, 360, 3]. */
function frameAt(seconds: number): Uint8Array {
  return new Uint8Array(
    execFileSync(
      'ffmpeg',
      [
        '-loglevel',
        'error',
        '-ss',
        String(seconds),
        '-i',
        video,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-',
      ],
      { maxBuffer: 1 << 24 },
    ),
  );
}

describe.skipIf(!haveVideo)('BlazeFaceDetector on franck.mp4', () => {
  let detector: BlazeFaceDetector;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    detector = await BlazeFaceDetector.load(tf, loadGraphModel, detectorIOHandler());
  });

  test('finds his face in frames across the video, where it is, and nothing else', async () => {
    const expected = { x: 115, y: 75, w: 160, h: 160 };
    for (const t of [1, 20, 75, 150]) {
      const pixels = tf.tensor3d(frameAt(t), [288, 360, 3], 'int32');
      const faces = await detector.detect(pixels);
      pixels.dispose();
      expect(faces, `at ${t} s`).toHaveLength(1);
      expect(faces[0].score).toBeGreaterThan(0.8);
      expect(iou(faces[0].box, expected), `at ${t} s: ${JSON.stringify(faces[0].box)}`).toBeGreaterThan(0.35);
    }
  });

  test('two people side by side (the frame twice, 720x288): two faces, one in each half', async () => {
    const frame = tf.tensor3d(frameAt(1), [288, 360, 3], 'int32');
    const both = tf.concat([frame, frame], 1) as tf.Tensor3D;
    const faces = await detector.detect(both);
    tf.dispose([frame, both]);
    expect(faces).toHaveLength(2);
    const [left, right] = [...faces].sort((a, b) => a.box.x - b.box.x);
    expect(left.box.x + left.box.w).toBeLessThan(360);
    expect(right.box.x).toBeGreaterThan(360);
    expect(right.box.x - 360).toBeCloseTo(left.box.x, -1);
  });

  test('random noise has no face; tensors are not leaked', async () => {
    const random = seeded(4);
    const before = tf.memory().numTensors;
    const noise = tf.tensor3d(
      Uint8Array.from({ length: 240 * 320 * 3 }, () => Math.floor(random() * 256)),
      [240, 320, 3],
      'int32',
    );
    expect(await detector.detect(noise)).toEqual([]);
    noise.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
