// Temporal smoothing of a face's probabilities: an exponential moving average whose weight
// follows the time between results, so it smooths the same at 5 and at 30 results per second.
// After tauMs a step change has moved 63% of the way, after 3·tauMs 95%.

/** The weight of a new sample that arrives dtMs after the previous one. */
export function emaWeight(dtMs: number, tauMs: number): number {
  if (tauMs <= 0) return 1;
  return 1 - Math.exp(-Math.max(0, dtMs) / tauMs);
}

export class ProbabilitySmoother {
  private state: number[] | undefined;
  private lastAt = 0;

  constructor(public tauMs: number) {}

  /** Folds in the probabilities received at time `at` (ms) and returns the smoothed ones. */
  update(probs: readonly number[], at: number): number[] {
    if (!this.state || this.state.length !== probs.length) {
      this.state = [...probs];
    } else {
      const w = emaWeight(at - this.lastAt, this.tauMs);
      this.state = w >= 1 ? [...probs] : this.state.map((s, i) => s + w * (probs[i] - s));
    }
    this.lastAt = at;
    return [...this.state];
  }

  get value(): number[] | undefined {
    return this.state ? [...this.state] : undefined;
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
