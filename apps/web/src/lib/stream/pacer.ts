// When to send the next frame. Frames are never queued in the browser: the capture loop asks
// `ready()` and, when it says yes, encodes and sends the frame it has now (the latest one);
// frames captured meanwhile are only shown, not sent. The send interval follows the measured
// round trip and the server's own processing time, so a slow link or a busy server gets fewer
// frames instead of a growing backlog:
//
//   interval = max(1000 / maxFps, service time, round trip / maxInFlight) · penalty
//
// `maxInFlight` frames may be unanswered at once, which hides network latency without queueing
// on the server when it is the bottleneck (the service-time term). The penalty grows when the
// server reports dropped frames or rate-limits us and shrinks back with every clean result.

export interface PacerOptions {
  /** Cap on frames sent per second (the user's setting and the server's limit, whichever is lower). */
  maxFps: number;
  /** Frames sent and not yet answered, at most. */
  maxInFlight: number;
  /** An unanswered frame older than this counts as lost (so a lost message cannot stall sending). */
  timeoutMs: number;
}

export const DEFAULT_PACER: PacerOptions = { maxFps: 30, maxInFlight: 2, timeoutMs: 5000 };

/** Round trips and service times are the median of this many recent results (robust to a GC pause). */
const WINDOW = 15;
const MAX_PENALTY = 16;

export interface Answer {
  /** Round trip of the answered frame, ms. */
  rttMs: number;
  /** Earlier frames still unanswered: the server dropped them (results come in order). */
  skipped: number[];
}

export class FramePacer {
  private readonly inFlight = new Map<number, number>();
  /** When the next frame may go: a schedule, so camera-frame quantisation doesn't lower the rate. */
  private nextDue = Number.NEGATIVE_INFINITY;
  private readonly rtts: number[] = [];
  private readonly services: number[] = [];
  private penalty = 1;

  constructor(public options: PacerOptions = DEFAULT_PACER) {}

  /** Milliseconds between sends at the current estimates. */
  get intervalMs(): number {
    const floor = 1000 / Math.max(this.options.maxFps, 0.1);
    const perFrame = median(this.rtts) / Math.max(1, this.options.maxInFlight);
    return Math.max(floor, median(this.services), perFrame) * this.penalty;
  }

  /** The round-trip estimate (median of the recent ones), 0 before the first result. */
  get roundTripMs(): number {
    return median(this.rtts);
  }

  get waiting(): number {
    return this.inFlight.size;
  }

  /** Whether a frame captured now should be sent. Expires frames unanswered for too long. */
  ready(now: number): boolean {
    for (const [id, sentAt] of this.inFlight) {
      if (now - sentAt > this.options.timeoutMs) this.inFlight.delete(id);
    }
    return this.inFlight.size < this.options.maxInFlight && now >= this.nextDue;
  }

  /**
   * frameId went out at `now`. `readyAt` is when ready() allowed it (detection and encoding
   * happen in between): the schedule counts from there, the round trip from `now`.
   */
  sent(frameId: number, now: number, readyAt = now): void {
    this.inFlight.set(frameId, now);
    // A frame sent a little after its due time keeps the schedule (the camera only offers
    // frames every 1/fps); one sent long after (waiting for answers, no face) restarts it.
    const interval = this.intervalMs;
    const base = Number.isFinite(this.nextDue) ? Math.max(this.nextDue, readyAt - interval / 2) : readyAt;
    this.nextDue = base + interval;
  }

  /**
   * A result for frameId arrived. `serviceMs` is the server's own time on it, excluding the
   * time it waited in our queue there. Undefined when the frame is not one we wait for.
   */
  answered(frameId: number, now: number, serviceMs: number, droppedByServer: number): Answer | undefined {
    const sentAt = this.inFlight.get(frameId);
    if (sentAt === undefined) return undefined;
    this.inFlight.delete(frameId);
    const skipped: number[] = [];
    for (const [id, at] of this.inFlight) {
      if (at <= sentAt) {
        skipped.push(id);
        this.inFlight.delete(id);
      }
    }
    const rttMs = now - sentAt;
    push(this.rtts, rttMs);
    push(this.services, serviceMs);
    if (droppedByServer > 0) this.penalty = Math.min(MAX_PENALTY, this.penalty * 1.5);
    else this.penalty = Math.max(1, this.penalty * 0.95);
    return { rttMs, skipped };
  }

  /** The server answered frameId with an error instead of a result. */
  failed(frameId: number, rateLimited: boolean): void {
    this.inFlight.delete(frameId);
    if (rateLimited) this.penalty = Math.min(MAX_PENALTY, this.penalty * 2);
  }

  /** A new session: nothing is in flight any more; the estimates stay as a starting point. */
  reset(): void {
    this.inFlight.clear();
    this.nextDue = Number.NEGATIVE_INFINITY;
  }
}

function push(window: number[], value: number): void {
  window.push(value);
  if (window.length > WINDOW) window.shift();
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
