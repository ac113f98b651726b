// Stable face IDs across frames. Each frame's detections are matched to the live tracks by
// box overlap (greedy on IoU, best pairs first: with a handful of faces that is as good as an
// optimal assignment); an unmatched detection starts a new track with the next ID, and a track
// unseen for more than `maxMissed` frames ends. IDs are never reused.
import { iou, type Box } from '../geometry.ts';

export interface TrackerOptions {
  /** Least overlap for a detection to continue a track. */
  minIou: number;
  /** Frames a track survives without a detection (a blink of the detector, a turned head). */
  maxMissed: number;
}

export const DEFAULT_TRACKER: TrackerOptions = { minIou: 0.25, maxMissed: 8 };

export interface Track {
  readonly id: number;
  box: Box;
  /** Frames in a row without a matching detection. */
  missed: number;
  /** Frames with a detection, in total. */
  hits: number;
  firstSeen: number;
  lastSeen: number;
}

export class FaceTracker {
  private live: Track[] = [];
  private nextId = 1;

  constructor(private readonly options: TrackerOptions = DEFAULT_TRACKER) {}

  /** Tracks alive after the last update, including those missed for a few frames. */
  get tracks(): readonly Track[] {
    return this.live;
  }

  /** Assigns a track ID to each detection of this frame, in the detections' order. */
  update(boxes: readonly Box[], now: number): number[] {
    const pairs: { t: number; d: number; overlap: number }[] = [];
    for (let t = 0; t < this.live.length; t++) {
      for (let d = 0; d < boxes.length; d++) {
        const overlap = iou(this.live[t].box, boxes[d]);
        if (overlap >= this.options.minIou) pairs.push({ t, d, overlap });
      }
    }
    pairs.sort((a, b) => b.overlap - a.overlap);

    const ids = new Array<number>(boxes.length).fill(0);
    const trackTaken = new Set<number>();
    for (const { t, d } of pairs) {
      if (trackTaken.has(t) || ids[d] !== 0) continue;
      trackTaken.add(t);
      const track = this.live[t];
      track.box = boxes[d];
      track.missed = 0;
      track.hits++;
      track.lastSeen = now;
      ids[d] = track.id;
    }
    this.live.forEach((track, t) => {
      if (!trackTaken.has(t)) track.missed++;
    });
    this.live = this.live.filter((track) => track.missed <= this.options.maxMissed);
    for (let d = 0; d < boxes.length; d++) {
      if (ids[d] !== 0) continue;
      const track: Track = {
        id: this.nextId++,
        box: boxes[d],
        missed: 0,
        hits: 1,
        firstSeen: now,
        lastSeen: now,
      };
      this.live.push(track);
      ids[d] = track.id;
    }
    return ids;
  }

  reset(): void {
    this.live = [];
  }
}
