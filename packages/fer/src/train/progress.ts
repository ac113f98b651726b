// A one-line progress display on stderr: redrawn in place on a terminal, printed every
// ~10% otherwise (logs and CI), so long runs always show they are alive.
export class ProgressLine {
  private lastPrinted = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string) {}

  update(done: number, total: number, fields: Record<string, string>): void {
    const frac = total === 0 ? 1 : done / total;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const text = `${this.label} ${bar} ${done}/${total} ${Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ')}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile > this.lastPrinted) {
      this.lastPrinted = decile;
      process.stderr.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
