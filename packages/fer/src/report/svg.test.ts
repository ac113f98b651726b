import { describe, expect, it } from 'vitest';
import { metricsFromConfusion } from '../eval/metrics.ts';
import type { EpochLog } from '../train/trainer.ts';
import { seededRandom } from '../data/testing.ts';
import { blues, confusionMatrixSvg, decimalsOf, niceTicks, swaRanges, trainingCurvesSvg } from './svg.ts';

/**
 * Checks the SVG is well-formed XML as far as these generators go: every tag closes in order,
 * attributes are quoted, text holds no raw '<' or '>' and every '&' starts an entity.
 */
function expectWellFormed(svg: string): void {
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  let roots = 0;
  for (const m of svg.matchAll(tag)) {
    const between = svg.slice(last, m.index);
    expect(between, `text before ${m[0]}`).not.toMatch(/[<>]/);
    expect(between.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, '')).not.toContain('&');
    last = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(svg.startsWith('<svg ')).toBe(true);
}

function size(svg: string) {
  const w = Number(/^<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
  const h = Number(/^<svg [^>]*height="(\d+)"/.exec(svg)?.[1]);
  const vb = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  return { w, h, vbW: Number(vb?.[1]), vbH: Number(vb?.[2]) };
}

const numbersIn = (svg: string, attr: string) =>
  [...svg.matchAll(new RegExp(`\\b${attr}="(-?[\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

describe('confusionMatrixSvg', () => {
  const random = seededRandom(11);
  const classes = ['happy', 'sad', 'surprise', 'neutral'];
  const confusion = classes.map(() => classes.map(() => Math.floor(random() * 40)));
  confusion[2] = [0, 0, 0, 0]; // a class with no images: its row shows no percentages
  const m = metricsFromConfusion(confusion, classes);
  const svg = confusionMatrixSvg(m, 'cnn: test <dedup> & more');

  it('is well-formed, sized by its viewBox, with the title escaped', () => {
    expectWellFormed(svg);
    const s = size(svg);
    expect(s.w).toBeGreaterThan(300);
    expect(s.h).toBeGreaterThan(300);
    expect([s.vbW, s.vbH]).toEqual([s.w, s.h]);
    expect(svg).toContain('<title>cnn: test &lt;dedup&gt; &amp; more</title>');
  });

  it('draws one cell per pair with its count and its share of the row', () => {
    const cells = [
      ...svg.matchAll(/<rect class="cell" data-row="(\d)" data-col="(\d)"[^>]*fill="(#[0-9a-f]{6})"/g),
    ];
    expect(cells).toHaveLength(16);
    const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((t) => t[1]);
    for (let i = 0; i < 4; i++) {
      const support = confusion[i].reduce((a, b) => a + b, 0);
      for (let j = 0; j < 4; j++) {
        const share = support ? confusion[i][j] / support : 0;
        const cell = cells.find((c) => c[1] === String(i) && c[2] === String(j))!;
        expect(cell[3]).toBe(blues(share));
        if (support) expect(texts).toContain(`${((100 * confusion[i][j]) / support).toFixed(1)}%`);
      }
    }
    // Counts appear as the cells' bold labels, in row-major order.
    const counts = [...svg.matchAll(/font-size="16"[^>]*font-weight="bold">(\d+)</g)].map((t) =>
      Number(t[1]),
    );
    expect(counts).toEqual(confusion.flat());
    expect(texts.filter((t) => t === '–')).toHaveLength(4);
    const n = confusion.flat().reduce((a, b) => a + b, 0);
    expect(texts.some((t) => t.startsWith(`n = ${n};`))).toBe(true);
  });

  it('labels both axes with every class and keeps everything inside the canvas', () => {
    const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((t) => t[1]);
    for (const c of classes) expect(texts.filter((t) => t === c)).toHaveLength(2);
    expect(texts).toContain('true class');
    expect(texts).toContain('predicted class');
    const { w, h } = size(svg);
    for (const x of numbersIn(svg, 'x')) expect(x).toBeLessThanOrEqual(w);
    for (const y of numbersIn(svg, 'y')) expect(y).toBeLessThanOrEqual(h);
  });

  it('gives each chart its own gradient id (the HTML page inlines several)', () => {
    const other = confusionMatrixSvg(m, 'vgg16: validation');
    const id = (s: string) => /linearGradient id="([^"]+)"/.exec(s)?.[1];
    expect(id(svg)).not.toBe(id(other));
    expect(svg).toContain(`url(#${id(svg)})`);
  });

  it('maps shares onto the scale from light to dark', () => {
    expect(blues(0)).toBe('#f7fbff');
    expect(blues(1)).toBe('#08306b');
    expect(blues(-1)).toBe(blues(0));
    expect(blues(NaN)).toBe(blues(0));
    const lightness = (hex: string) => [1, 3, 5].reduce((s, i) => s + parseInt(hex.slice(i, i + 2), 16), 0);
    expect(lightness(blues(0.3))).toBeGreaterThan(lightness(blues(0.6)));
  });
});

function history(n: number, seed: number): EpochLog[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    lr: 0.002 * (1 - i / n),
    trainLoss: 1.6 - i * 0.05 + random() * 0.05,
    trainAccuracy: 0.3 + i * 0.02 + random() * 0.01,
    valLoss: 1.4 - i * 0.03 + random() * 0.05,
    valAccuracy: 0.35 + i * 0.02 + random() * 0.01,
    valBalancedAccuracy: 0.34 + i * 0.02,
    valMacroF1: 0.3 + i * 0.02 + random() * 0.01,
    imagesPerSecond: 20 + random(),
    seconds: 600 + random() * 60,
    best: i === 0 || i === n - 3,
  }));
}

describe('trainingCurvesSvg', () => {
  it('draws five series over the epochs with the best epoch marked', () => {
    const h = history(12, 3);
    const svg = trainingCurvesSvg(h, 'resnetv2: training curves');
    expectWellFormed(svg);
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(5);
    expect(svg.match(/<circle class="point"/g)).toHaveLength(5 * 12);
    for (const line of svg.matchAll(/points="([^"]+)"/g)) expect(line[1].split(' ')).toHaveLength(12);
    // The last epoch flagged best is the one shipped; both panels mark it.
    expect(svg.match(/best: epoch 10</g)).toHaveLength(2);
    expect(svg.match(/<line class="best"/g)).toHaveLength(2);
    for (const label of [
      'Loss',
      'Accuracy and macro-F1',
      'epoch',
      'validation',
      'val. macro-F1',
      '100%',
      '0%',
      '12',
    ])
      expect(svg).toContain(`>${label}</text>`);
    const { w, h: height, vbW, vbH } = size(svg);
    expect([vbW, vbH]).toEqual([w, height]);
    for (const y of numbersIn(svg, 'cy')) expect(y).toBeLessThanOrEqual(height);
  });

  it('shades the weight-averaging (SWA) epochs from the first of them to the end, in both panels', () => {
    const plain = trainingCurvesSvg(history(12, 3));
    expect(plain).not.toContain('class="swa"');
    const h = history(12, 3).map((e) => (e.epoch >= 9 ? { ...e, swa: e.epoch - 8 } : e));
    const svg = trainingCurvesSvg(h);
    expectWellFormed(svg);
    const shades = [...svg.matchAll(/<rect class="swa" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)];
    expect(shades).toHaveLength(2);
    expect(svg.match(/>SWA<\/text>/g)).toHaveLength(2);
    // The shade starts half-way between the epoch-8 and epoch-9 points and ends at the plot's edge.
    const xsOfPoints = [...svg.matchAll(/<circle class="point" cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    const [x8, x9] = [xsOfPoints[7], xsOfPoints[8]];
    const start = Number(shades[0][1]);
    expect(start).toBeCloseTo((x8 + x9) / 2, 0);
    const frame = [
      ...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="none"/g),
    ][0];
    expect(start + Number(shades[0][2])).toBeCloseTo(Number(frame[1]) + Number(frame[2]), 0);
  });

  it('shades each unbroken run of SWA epochs on its own (a fine-tune of an average starts a new one)', () => {
    const swaAt: Record<number, number> = { 3: 1, 4: 2, 9: 1, 10: 2, 11: 3 };
    const h = history(12, 3).map((e) => (swaAt[e.epoch] ? { ...e, swa: swaAt[e.epoch] } : e));
    expect(swaRanges(h)).toEqual([
      [3, 4],
      [9, 11],
    ]);
    // Two stages that both end in SWA, back to back: the count restarting splits them.
    const chained = history(4, 1).map((e, i) => ({ ...e, swa: [1, 2, 1, 2][i] }));
    expect(swaRanges(chained)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(swaRanges(history(5, 1))).toEqual([]);
    const svg = trainingCurvesSvg(h);
    expect(svg.match(/<rect class="swa"/g)).toHaveLength(4); // two ranges in each panel
    const xs = [...svg.matchAll(/<circle class="point" cx="([\d.]+)"/g)]
      .slice(0, 12)
      .map((m) => Number(m[1]));
    const [first, second] = [
      ...svg.matchAll(/<rect class="swa" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g),
    ].map((m) => [Number(m[1]), Number(m[1]) + Number(m[2])]);
    expect(first[0]).toBeCloseTo((xs[1] + xs[2]) / 2, 0);
    expect(first[1]).toBeCloseTo((xs[3] + xs[4]) / 2, 0);
    expect(second[0]).toBeCloseTo((xs[7] + xs[8]) / 2, 0);
    expect(second[1]).toBeCloseTo((xs[10] + xs[11]) / 2, 0);
  });

  it('puts higher values higher on the plot', () => {
    const h = history(5, 4);
    h[2].valMacroF1 = 0.9;
    h[3].valMacroF1 = 0.1;
    const svg = trainingCurvesSvg(h);
    const f1Line = [
      ...svg.matchAll(/<polyline class="series"[^>]*stroke="#238b45"[^>]*points="([^"]+)"/g),
    ][0][1];
    const ys = f1Line.split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[2]).toBeLessThan(ys[3]); // SVG y grows downwards
  });

  it('shows a single epoch as points and an empty history as a message', () => {
    const one = trainingCurvesSvg(history(1, 5));
    expectWellFormed(one);
    expect(one).not.toContain('<polyline');
    expect(one.match(/<circle class="point"/g)).toHaveLength(5);
    const none = trainingCurvesSvg([]);
    expectWellFormed(none);
    expect(none).toContain('no epochs recorded');
  });
});

describe('axis helpers', () => {
  it('niceTicks covers the range with round steps', () => {
    expect(niceTicks(0, 1.61, 5)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 24, 8)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('decimalsOf writes every tick exactly', () => {
    expect(decimalsOf([0, 0.5, 1, 1.5])).toBe(1);
    expect(decimalsOf([0, 5, 10])).toBe(0);
    expect(decimalsOf([0, 0.25, 0.5])).toBe(2);
  });
});
