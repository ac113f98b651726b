// Plain-text rendering of evaluation results for the terminal.
import type { Metrics } from './metrics.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatConfusion(m: Pick<Metrics, 'classes' | 'confusion'>): string {
  const w = Math.max(8, ...m.classes.map((c) => c.length + 1));
  const head = `${'true \\ pred'.padEnd(w + 2)}${m.classes.map((c) => c.padStart(w)).join('')}`;
  const rows = m.confusion.map(
    (row, i) => `${m.classes[i].padEnd(w + 2)}${row.map((v) => String(v).padStart(w)).join('')}`,
  );
  return [head, ...rows].join('\n');
}

export function formatMetrics(m: Metrics): string {
  const w = Math.max(9, ...m.classes.map((c) => c.length + 1));
  const lines = [
    `images ${m.n}   accuracy ${pct(m.accuracy)}   balanced accuracy ${pct(m.balancedAccuracy)}   macro-F1 ${m.macroF1.toFixed(3)}`,
    '',
    `${'class'.padEnd(w)}${'precision'.padStart(11)}${'recall'.padStart(9)}${'F1'.padStart(8)}${'support'.padStart(9)}`,
    ...m.perClass.map(
      (c) =>
        `${c.class.padEnd(w)}${c.precision.toFixed(3).padStart(11)}${c.recall.toFixed(3).padStart(9)}${c.f1
          .toFixed(3)
          .padStart(8)}${String(c.support).padStart(9)}`,
    ),
    `${'macro'.padEnd(w)}${m.macroPrecision.toFixed(3).padStart(11)}${m.macroRecall.toFixed(3).padStart(9)}${m.macroF1
      .toFixed(3)
      .padStart(8)}${String(m.n).padStart(9)}`,
    '',
    formatConfusion(m),
  ];
  return lines.join('\n');
}
