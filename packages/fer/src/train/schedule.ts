// Learning rate: linear warm-up, then cosine decay to `floor`·lr at the last epoch.
export interface LrSchedule {
  lr: number;
  warmupEpochs: number;
  epochs: number;
  floor: number;
}

/** Learning rate at a fractional epoch position (epoch index + fraction of the epoch done). */
export function learningRate(s: LrSchedule, position: number): number {
  if (position < s.warmupEpochs) return (s.lr * (position + 1e-3)) / s.warmupEpochs;
  const span = Math.max(1e-9, s.epochs - s.warmupEpochs);
  const t = Math.min(1, (position - s.warmupEpochs) / span);
  return s.lr * (s.floor + (1 - s.floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
