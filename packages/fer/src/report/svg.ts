// Charts for the report as hand-written SVG strings: the confusion matrix and the training
// curves. No chart library: the output is small, deterministic and diffable, and renders the
// same inline in HTML and as a file beside Markdown.
import type { Metrics } from '../eval/metrics.ts';
import type { EpochLog } from '../train/trainer.ts';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const r1 = (x: number) => Math.round(x * 10) / 10;

function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}" ${FONT}>\n` +
    `<title>${escapeXml(title)}</title>\n<rect width="${width}" height="${height}" fill="#ffffff"/>`
  );
}

function text(
  x: number,
  y: number,
  content: string,
  attrs: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    fill?: string;
    weight?: string;
    extra?: string;
  } = {},
): string {
  const parts = [`x="${r1(x)}"`, `y="${r1(y)}"`, `font-size="${attrs.size ?? 12}"`];
  if (attrs.anchor && attrs.anchor !== 'start') parts.push(`text-anchor="${attrs.anchor}"`);
  if (attrs.fill) parts.push(`fill="${attrs.fill}"`);
  if (attrs.weight) parts.push(`font-weight="${attrs.weight}"`);
  if (attrs.extra) parts.push(attrs.extra);
  return `<text ${parts.join(' ')}>${escapeXml(content)}</text>`;
}

// ColorBrewer "Blues", light to dark: sequential, readable in grey print.
const BLUES: Array<[number, number, number]> = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

/** The fill for a share in [0, 1] on the Blues scale, as #rrggbb. */
export function blues(share: number): string {
  const t = Math.min(1, Math.max(0, Number.isFinite(share) ? share : 0)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(t));
  const f = t - i;
  const hex = BLUES[i].map((c, j) =>
    Math.round(c + f * (BLUES[i + 1][j] - c))
      .toString(16)
      .padStart(2, '0'),
  );
  return `#${hex.join('')}`;
}

/** Lower-case letters, digits and dashes: for file names and SVG ids. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Rows are the true class, columns the predicted one. Each cell shows its count and its share
 * of the row (the recall of the diagonal, the confusion rate off it); the colour encodes that
 * share, so rows of rare and common classes read on the same scale.
 */
export function confusionMatrixSvg(m: Pick<Metrics, 'classes' | 'confusion'>, title: string): string {
  // Ids must be unique in the HTML page, which inlines many of these.
  const gradientId = `scale-${slug(title)}`;
  const k = m.classes.length;
  const cell = 76;
  const labelWidth = Math.max(70, 8 * Math.max(...m.classes.map((c) => c.length)) + 16);
  const left = 28 + labelWidth;
  const top = 78;
  const legendX = left + k * cell + 28;
  const width = legendX + 70;
  const height = top + k * cell + 46;
  const total = m.confusion.reduce((a, row) => a + row.reduce((s, v) => s + v, 0), 0);
  const out = [svgOpen(width, height, title)];
  out.push(text(width / 2, 22, title, { size: 15, anchor: 'middle', weight: 'bold' }));
  out.push(text(left + (k * cell) / 2, 44, 'predicted class', { size: 12, anchor: 'middle', fill: '#444' }));
  const midY = top + (k * cell) / 2;
  out.push(
    text(14, midY, 'true class', {
      size: 12,
      anchor: 'middle',
      fill: '#444',
      extra: `transform="rotate(-90 14 ${r1(midY)})"`,
    }),
  );
  m.classes.forEach((c, j) => out.push(text(left + j * cell + cell / 2, top - 10, c, { anchor: 'middle' })));
  m.confusion.forEach((row, i) => {
    const support = row.reduce((a, b) => a + b, 0);
    const y = top + i * cell;
    out.push(text(left - 8, y + cell / 2 + 4, m.classes[i], { anchor: 'end' }));
    row.forEach((count, j) => {
      const share = support === 0 ? 0 : count / support;
      const x = left + j * cell;
      const ink = share > 0.5 ? '#ffffff' : '#1a1a1a';
      out.push(
        `<rect class="cell" data-row="${i}" data-col="${j}" x="${x}" y="${y}" width="${cell}" height="${cell}" ` +
          `fill="${blues(share)}" stroke="#ffffff"/>`,
      );
      out.push(
        text(x + cell / 2, y + cell / 2 - 2, String(count), {
          size: 16,
          anchor: 'middle',
          fill: ink,
          weight: 'bold',
        }),
      );
      out.push(
        text(x + cell / 2, y + cell / 2 + 16, support === 0 ? '–' : pct(share), {
          size: 11,
          anchor: 'middle',
          fill: ink,
        }),
      );
    });
  });
  // The diagonal (correct predictions) outlined last, so neighbouring cells do not cover it.
  for (let i = 0; i < k; i++) {
    out.push(
      `<rect x="${left + i * cell + 1}" y="${top + i * cell + 1}" width="${cell - 2}" height="${cell - 2}" fill="none" stroke="#08306b" stroke-width="2"/>`,
    );
  }
  out.push(
    text(left, top + k * cell + 24, `n = ${total}; cell: count and share of the true class (row)`, {
      size: 11,
      fill: '#444',
    }),
  );
  // Legend: the colour scale from 0% (bottom) to 100% (top).
  const legendH = k * cell;
  out.push(
    `<defs><linearGradient id="${gradientId}" x1="0" y1="1" x2="0" y2="0">${BLUES.map(
      (_, s) => `<stop offset="${s / (BLUES.length - 1)}" stop-color="${blues(s / (BLUES.length - 1))}"/>`,
    ).join('')}</linearGradient></defs>`,
  );
  out.push(
    `<rect x="${legendX}" y="${top}" width="14" height="${legendH}" fill="url(#${gradientId})" stroke="#999"/>`,
  );
  for (const s of [0, 0.5, 1]) {
    const y = top + legendH * (1 - s);
    out.push(`<line x1="${legendX + 14}" y1="${r1(y)}" x2="${legendX + 18}" y2="${r1(y)}" stroke="#999"/>`);
    out.push(text(legendX + 21, y + 4, `${s * 100}%`, { size: 11, fill: '#444' }));
  }
  out.push('</svg>');
  return out.join('\n');
}

/**
 * About `count` round tick values (steps of 1, 2 or 5 × 10^k) from the last one at or below
 * `min` to the first one at or above `max`, so the ticks cover the data.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((s) => s * mag).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** The fewest decimals (up to 3) that write every tick exactly. */
export function decimalsOf(ticks: readonly number[]): number {
  for (let d = 0; d < 3; d++)
    if (ticks.every((t) => Math.abs(t * 10 ** d - Math.round(t * 10 ** d)) < 1e-6)) return d;
  return 3;
}

interface Series {
  label: string;
  color: string;
  dash?: string;
  values: number[];
}

interface Panel {
  title: string;
  yLabel: string;
  yMax: number;
  yFormat: (v: number) => string;
  series: Series[];
}

const PLOT_W = 340;
const PLOT_H = 220;
const PANEL_LEFT = 58;
const PANEL_TOP = 84;
const PANEL_W = PANEL_LEFT + PLOT_W + 24;

function drawPanel(
  p: Panel,
  x0: number,
  epochs: number[],
  bestEpoch: number | undefined,
  swaRanges: ReadonlyArray<readonly [number, number]> = [],
): string[] {
  const last = epochs[epochs.length - 1];
  // Half an epoch of padding each side, so a single epoch sits mid-plot.
  const xMin = 0.5;
  const xMax = last + 0.5;
  const sx = (e: number) => x0 + PANEL_LEFT + ((e - xMin) / (xMax - xMin)) * PLOT_W;
  const sy = (v: number) => PANEL_TOP + PLOT_H - (v / p.yMax) * PLOT_H;
  const out: string[] = [];
  const px = x0 + PANEL_LEFT;
  out.push(text(px + PLOT_W / 2, PANEL_TOP - 30, p.title, { size: 13, anchor: 'middle', weight: 'bold' }));
  for (const v of niceTicks(0, p.yMax, 5)) {
    const y = sy(v);
    out.push(`<line x1="${px}" y1="${r1(y)}" x2="${px + PLOT_W}" y2="${r1(y)}" stroke="#e6e6e6"/>`);
    out.push(text(px - 6, y + 4, p.yFormat(v), { size: 11, anchor: 'end', fill: '#444' }));
  }
  const xTicks = niceTicks(1, last, Math.min(8, last)).filter(
    (e) => Number.isInteger(e) && e >= 1 && e <= last,
  );
  for (const e of xTicks.length ? xTicks : [1]) {
    const x = sx(e);
    out.push(
      `<line x1="${r1(x)}" y1="${PANEL_TOP + PLOT_H}" x2="${r1(x)}" y2="${PANEL_TOP + PLOT_H + 4}" stroke="#999"/>`,
    );
    out.push(text(x, PANEL_TOP + PLOT_H + 17, String(e), { size: 11, anchor: 'middle', fill: '#444' }));
  }
  for (const [from, to] of swaRanges) {
    // Weight-averaging epochs: shaded, since their validation points score the average.
    const x = sx(from - 0.5);
    const x2 = sx(to + 0.5);
    out.push(
      `<rect class="swa" x="${r1(x)}" y="${PANEL_TOP}" width="${r1(x2 - x)}" height="${PLOT_H}" fill="#fdf1d6"/>`,
    );
    out.push(text(x2 - 4, PANEL_TOP + PLOT_H - 6, 'SWA', { size: 10, anchor: 'end', fill: '#8a6d1d' }));
  }
  out.push(
    `<rect x="${px}" y="${PANEL_TOP}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`,
  );
  out.push(
    text(px + PLOT_W / 2, PANEL_TOP + PLOT_H + 36, 'epoch', { size: 12, anchor: 'middle', fill: '#444' }),
  );
  const midY = PANEL_TOP + PLOT_H / 2;
  out.push(
    text(x0 + 14, midY, p.yLabel, {
      size: 12,
      anchor: 'middle',
      fill: '#444',
      extra: `transform="rotate(-90 ${x0 + 14} ${midY})"`,
    }),
  );
  if (bestEpoch !== undefined) {
    const x = sx(bestEpoch);
    out.push(
      `<line class="best" x1="${r1(x)}" y1="${PANEL_TOP}" x2="${r1(x)}" y2="${PANEL_TOP + PLOT_H}" stroke="#888" stroke-dasharray="3 3"/>`,
    );
    // Right of the line, unless that would run past the plot.
    const label = `best: epoch ${bestEpoch}`;
    const fits = x + 3 + 6 * label.length < px + PLOT_W;
    out.push(
      text(fits ? x + 3 : x - 3, PANEL_TOP + 12, label, {
        size: 10,
        fill: '#666',
        anchor: fits ? 'start' : 'end',
      }),
    );
  }
  p.series.forEach((s, si) => {
    const points = epochs.flatMap((e, i) =>
      Number.isFinite(s.values[i]) ? [[sx(e), sy(Math.min(p.yMax, s.values[i]))] as const] : [],
    );
    if (points.length > 1) {
      out.push(
        `<polyline class="series" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} ` +
          `points="${points.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' ')}"/>`,
      );
    }
    for (const [x, y] of points)
      out.push(`<circle class="point" cx="${r1(x)}" cy="${r1(y)}" r="3" fill="${s.color}"/>`);
    // Legend row above the plot.
    const lx = px + si * (PLOT_W / p.series.length);
    const ly = PANEL_TOP - 12;
    out.push(
      `<line x1="${r1(lx)}" y1="${ly - 4}" x2="${r1(lx + 18)}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(text(lx + 22, ly, s.label, { size: 11 }));
  });
  return out;
}

/** First and last epoch of each unbroken run of SWA epochs (those with `swa` set). */
export function swaRanges(history: readonly EpochLog[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  history.forEach((h, i) => {
    if (h.swa === undefined) return;
    const prev = history[i - 1]?.swa;
    if (out.length && prev !== undefined && h.swa > prev) out[out.length - 1][1] = h.epoch;
    else out.push([h.epoch, h.epoch]);
  });
  return out;
}

/**
 * Two panels over the epochs: loss (train and validation) and accuracy (train, validation, and
 * validation macro-F1, the early-stopping criterion), with the best epoch marked and the
 * weight-averaging (SWA) epochs shaded.
 */
export function trainingCurvesSvg(history: readonly EpochLog[], title = 'Training curves'): string {
  const width = 2 * PANEL_W + 10;
  const height = PANEL_TOP + PLOT_H + 48;
  const out = [svgOpen(width, height, title)];
  out.push(text(width / 2, 20, title, { size: 15, anchor: 'middle', weight: 'bold' }));
  if (history.length === 0) {
    out.push(text(width / 2, height / 2, 'no epochs recorded', { size: 14, anchor: 'middle', fill: '#666' }));
    out.push('</svg>');
    return out.join('\n');
  }
  const epochs = history.map((h) => h.epoch);
  const bests = history.filter((h) => h.best);
  const bestEpoch = bests.length ? bests[bests.length - 1].epoch : undefined;
  const losses = history.flatMap((h) => [h.trainLoss, h.valLoss]).filter(Number.isFinite);
  const lossTicks = niceTicks(0, Math.max(0.1, ...losses), 5);
  const loss: Panel = {
    title: 'Loss',
    yLabel: 'cross-entropy',
    yMax: lossTicks[lossTicks.length - 1],
    yFormat: (v) => v.toFixed(decimalsOf(lossTicks)),
    series: [
      { label: 'train (smoothed labels)', color: '#2171b5', values: history.map((h) => h.trainLoss) },
      { label: 'validation', color: '#d94801', dash: '6 3', values: history.map((h) => h.valLoss) },
    ],
  };
  const accuracy: Panel = {
    title: 'Accuracy and macro-F1',
    yLabel: 'share',
    yMax: 1,
    yFormat: (v) => `${Math.round(v * 100)}%`,
    series: [
      { label: 'train acc.', color: '#2171b5', values: history.map((h) => h.trainAccuracy) },
      { label: 'val. acc.', color: '#d94801', dash: '6 3', values: history.map((h) => h.valAccuracy) },
      { label: 'val. macro-F1', color: '#238b45', dash: '2 2', values: history.map((h) => h.valMacroF1) },
    ],
  };
  const swa = swaRanges(history);
  out.push(...drawPanel(loss, 0, epochs, bestEpoch, swa));
  out.push(...drawPanel(accuracy, PANEL_W + 10, epochs, bestEpoch, swa));
  out.push('</svg>');
  return out.join('\n');
}
