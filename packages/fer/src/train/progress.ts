// A one-line progress display on stderr, used by training and by `fer data` imports.

/** Where a ProgressLine writes: process.stderr, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * On a terminal the line is redrawn in place, at most 10 times a second; elsewhere (logs, CI)
 * one line is printed per tenth of the work, so long runs show they are alive and logs stay
 * short. The line for done >= total is always shown, once; later updates are ignored (a
 * CSV's byte count reaches 100% while its last lines still parse).
 */
export class ProgressLine {
  private readonly tty: boolean;
  private lastDrawn = -Infinity;
  private lastTenth = -1;
  private drawn = false;
  private finished = false;

  constructor(
    private readonly out: ProgressStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.tty = out.isTTY === true;
  }

  /** Shows `text`, which describes `done` of `total`. */
  update(done: number, total: number, text: string): void {
    if (this.finished) return;
    const frac = total > 0 ? done / total : 1;
    const last = frac >= 1;
    if (this.tty) {
      const t = this.now();
      if (t - this.lastDrawn < 100 && !last) return;
      this.lastDrawn = t;
      this.out.write(`\r\x1b[2K${text}`);
    } else {
      const tenth = Math.floor(frac * 10);
      if (tenth <= this.lastTenth) return;
      this.lastTenth = tenth;
      this.out.write(`${text}\n`);
    }
    this.drawn = true;
    this.finished = last;
  }

  /** Ends the display leaving the last line on screen. */
  done(): void {
    if (this.tty) this.out.write('\n');
  }

  /** Ends the display erasing the line from a terminal, for output that follows in its place. */
  clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
  }
}

/** `label [#######.........] done/total k1 v1  k2 v2`: training's progress line. */
export function progressBar(
  label: string,
  done: number,
  total: number,
  fields: Record<string, string>,
): string {
  const frac = total === 0 ? 1 : done / total;
  const width = 24;
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return `${label} ${bar} ${done}/${total} ${Object.entries(fields)
    .map(([k, v]) => `${k} ${v}`)
    .join('  ')}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
