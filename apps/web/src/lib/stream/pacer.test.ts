import { describe, expect, test } from 'vitest';
import { FramePacer } from './pacer.ts';
import { seeded } from '../testing.ts';

/**
 * Simulates a camera at `cameraFps` feeding the pacer, a link with `netMs` round-trip network
 * latency, and a server that processes one frame at a time in `serviceMs` and queues up to
 * `queue` frames (dropping the oldest waiting one beyond that, as the stream server does).
 */
function simulate(opts: {
  cameraFps: number;
  netMs: number;
  serviceMs: number;
  queue: number;
  seconds: number;
}) {
  const pacer = new FramePacer({ maxFps: 30, maxInFlight: 2, timeoutMs: 5000 });
  const random = seeded(9);
  type Job = { id: number; arrives: number };
  let queue: Job[] = [];
  let busyUntil = 0;
  let droppedSinceResult = 0;
  const answers: { id: number; at: number; dropped: number }[] = [];
  let sent = 0;
  let answered = 0;
  let maxWaiting = 0;
  const rtts: number[] = [];
  let id = 0;
  const step = 1; // ms
  for (let t = 0; t < opts.seconds * 1000; t += step) {
    // server: start the next job when free
    queue.sort((a, b) => a.arrives - b.arrives);
    while (queue.length && queue[0].arrives <= t && busyUntil <= t) {
      const job = queue.shift()!;
      busyUntil = t + opts.serviceMs * (0.8 + 0.4 * random());
      answers.push({ id: job.id, at: busyUntil + opts.netMs / 2, dropped: droppedSinceResult });
      droppedSinceResult = 0;
    }
    // client: deliver answers
    answers.sort((a, b) => a.at - b.at);
    while (answers.length && answers[0].at <= t) {
      const a = answers.shift()!;
      const r = pacer.answered(a.id, t, opts.serviceMs, a.dropped);
      if (r) {
        answered++;
        rtts.push(r.rttMs);
      }
    }
    // camera frame?
    if (Math.floor((t * opts.cameraFps) / 1000) !== Math.floor(((t - step) * opts.cameraFps) / 1000)) {
      if (pacer.ready(t)) {
        const frameId = id++;
        pacer.sent(frameId, t);
        sent++;
        const arrives = t + opts.netMs / 2;
        const waiting = queue.filter((j) => j.arrives <= arrives);
        if (waiting.length >= opts.queue) {
          queue = queue.filter((j) => j !== waiting[0]);
          droppedSinceResult++;
        }
        queue.push({ id: frameId, arrives });
      }
      maxWaiting = Math.max(maxWaiting, pacer.waiting);
    }
  }
  return { pacer, sent, answered, rtts, maxWaiting, fps: answered / opts.seconds };
}

describe('FramePacer', () => {
  test('a fast local server: sends at the fps cap, never more than 2 in flight', () => {
    const r = simulate({ cameraFps: 60, netMs: 1, serviceMs: 8, queue: 2, seconds: 10 });
    expect(r.maxWaiting).toBeLessThanOrEqual(2);
    expect(r.fps).toBeGreaterThan(25);
    expect(r.fps).toBeLessThanOrEqual(30.5);
  });

  test('a slow server: the rate falls to what it can process and the round trip stays near one service time', () => {
    const r = simulate({ cameraFps: 30, netMs: 2, serviceMs: 100, queue: 2, seconds: 20 });
    expect(r.fps).toBeGreaterThan(7);
    expect(r.fps).toBeLessThan(10.5);
    const late = r.rtts.slice(-50).sort((a, b) => a - b);
    // No backlog: a frame waits at most for the one in progress.
    expect(late[Math.floor(late.length / 2)]).toBeLessThan(2.2 * 100);
  });

  test('a long link: two frames in flight keep the rate above 1/RTT', () => {
    const r = simulate({ cameraFps: 30, netMs: 200, serviceMs: 10, queue: 2, seconds: 20 });
    expect(r.fps).toBeGreaterThan((1000 / 210) * 1.6);
  });

  test('answers settle earlier unanswered frames (results come in order) and dropped frames slow the pace', () => {
    const p = new FramePacer({ maxFps: 30, maxInFlight: 3, timeoutMs: 5000 });
    p.sent(1, 0);
    p.sent(2, 40);
    p.sent(3, 80);
    const before = p.intervalMs;
    const a = p.answered(3, 120, 20, 2);
    expect(a).toEqual({ rttMs: 40, skipped: [1, 2] });
    expect(p.waiting).toBe(0);
    expect(p.intervalMs).toBeGreaterThan(before);
    expect(p.answered(1, 130, 20, 0)).toBeUndefined();
  });

  test('rate-limit errors back off; clean results recover; lost frames expire', () => {
    const p = new FramePacer({ maxFps: 30, maxInFlight: 1, timeoutMs: 1000 });
    p.sent(1, 0);
    p.failed(1, true);
    const slowed = p.intervalMs;
    expect(slowed).toBeCloseTo((1000 / 30) * 2, 6);
    let t = 0;
    for (let i = 2; i < 100; i++) {
      t += 100;
      p.sent(i, t);
      p.answered(i, t + 5, 5, 0);
    }
    expect(p.intervalMs).toBeCloseTo(1000 / 30, 6);
    p.sent(500, 20_000);
    expect(p.ready(20_500)).toBe(false);
    expect(p.ready(21_001)).toBe(true); // the unanswered frame expired
  });
});

test('the schedule counts from when a frame was allowed, not from when detection let it go', () => {
  // Frames every 47 ms, each sent 40 ms after it was allowed (detection + encoding); a 33 ms
  // interval must let every frame go, not every other one.
  const p = new FramePacer({ maxFps: 30, maxInFlight: 2, timeoutMs: 5000 });
  let sent = 0;
  for (let i = 0; i < 100; i++) {
    const t = i * 47;
    if (p.ready(t)) {
      p.sent(i, t + 40, t);
      p.answered(i, t + 60, 10, 0);
      sent++;
    }
  }
  expect(sent).toBe(100);
});
