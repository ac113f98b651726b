import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { appUrl, loadModelCard, loadReport, readFigure, renderMarkdown } from './report.ts';

describe('appUrl', () => {
  test('maps the report, model cards and figures to app routes, from either file', () => {
    expect(appUrl('cnn/README.md', 'REPORT.md')).toBe('/models/cnn');
    expect(appUrl('report/confusion-cnn-test.svg', 'REPORT.md')).toBe(
      '/models/report/confusion-cnn-test.svg',
    );
    expect(appUrl('../REPORT.md', 'cnn/README.md')).toBe('/models');
    expect(appUrl('../report/training-cnn.svg', 'cnn/README.md')).toBe('/models/report/training-cnn.svg');
    expect(appUrl('../REPORT.md#summary', 'vgg16/README.md')).toBe('/models#summary');
  });

  test('leaves absolute URLs, anchors and unknown files alone; never escapes models/', () => {
    expect(appUrl('https://example.org/x', 'REPORT.md')).toBe('https://example.org/x');
    expect(appUrl('#data', 'REPORT.md')).toBe('#data');
    expect(appUrl('cnn/metrics.json', 'REPORT.md')).toBe('cnn/metrics.json');
    expect(appUrl('../../etc/passwd', 'cnn/README.md')).toBe('../../etc/passwd');
    expect(appUrl('report/../../x.svg', 'REPORT.md')).toBe('report/../../x.svg');
  });
});

describe('renderMarkdown', () => {
  test('renders GFM tables and rewrites image and link targets', () => {
    const html = renderMarkdown(
      '# Report\n\n| Model | acc |\n| --- | ---: |\n| [cnn](cnn/README.md) | 35.3% |\n\n![cnn: test confusion matrix](report/confusion-cnn-test.svg)\n',
      'REPORT.md',
    );
    expect(html).toMatch(/<table>[\s\S]*<th>Model<\/th>[\s\S]*<td align="right">35.3%<\/td>/);
    expect(html).toContain('<a href="/models/cnn">cnn</a>');
    expect(html).toContain(
      '<img src="/models/report/confusion-cnn-test.svg" alt="cnn: test confusion matrix">',
    );
  });
});

describe('loading', () => {
  test('missing report → undefined; present files render; figure names are checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'affect-models-'));
    expect(await loadReport(dir)).toBeUndefined();
    writeFileSync(join(dir, 'REPORT.md'), '# Affect models: report\n\nhello\n');
    mkdirSync(join(dir, 'cnn'));
    writeFileSync(join(dir, 'cnn/README.md'), '# cnn: Custom CNN\n\n[all](../REPORT.md)\n');
    mkdirSync(join(dir, 'report'));
    writeFileSync(join(dir, 'report/a.svg'), '<svg/>');
    expect(await loadReport(dir)).toMatchObject({
      title: 'Affect models: report',
      source: 'models/REPORT.md',
    });
    expect((await loadModelCard(dir, 'cnn'))?.html).toContain('href="/models"');
    expect(await loadModelCard(dir, '../cnn')).toBeUndefined();
    expect(await readFigure(dir, 'a.svg')).toBe('<svg/>');
    expect(await readFigure(dir, '../REPORT.md')).toBeUndefined();
  });
});
