// Rolling statistics for the HUD: event rates over a time window and percentiles over the
// last samples. Times are milliseconds from any monotonic clock (performance.now()).

/** Events per second over the last `windowMs`. */
export class RateMeter {
  private times: number[] = [];

  constructor(private readonly windowMs = 2000) {}

  tick(at: number, count = 1): void {
    for (let i = 0; i < count; i++) this.times.push(at);
    this.trim(at);
  }

  rate(now: number): number {
    this.trim(now);
    const n = this.times.length;
    if (n < 2) return 0;
    // Intervals between the events in the window, over the time from the first one to now: at
    // a steady rate that is the rate, and when events stop it decays instead of freezing.
    return ((n - 1) * 1000) / Math.max(now - this.times[0], 1e-3);
  }

  private trim(now: number): void {
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && this.times[drop] < from) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}

/** Percentiles of the last `capacity` samples. */
export class RollingPercentiles {
  private samples: number[] = [];

  constructor(private readonly capacity = 200) {}

  add(value: number): void {
    this.samples.push(value);
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (0..1) by linear interpolation; NaN with no samples. */
  quantile(q: number): number {
    return quantile(this.samples, q);
  }
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
