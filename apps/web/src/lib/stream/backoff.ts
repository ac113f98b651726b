// Reconnection delays: exponential, capped, with jitter so that many browsers reconnecting to
// a restarted server don't all arrive in the same millisecond.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 };

/** The delay before reconnection attempt `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  const scale = 1 - options.jitter + 2 * options.jitter * random();
  return Math.round(base * scale);
}
