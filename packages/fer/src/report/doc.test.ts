import { describe, expect, it } from 'vitest';
import { inlineHtml, renderHtml, renderMarkdown, type Block } from './doc.ts';

const blocks: Block[] = [
  { kind: 'heading', level: 2, text: 'Summary <1>' },
  { kind: 'paragraph', text: 'Run `fer report --runs <n>` and see **REPORT.md** or [cnn](cnn/README.md).' },
  { kind: 'list', items: ['a & b', '**bold** item'] },
  {
    kind: 'table',
    head: ['Model', 'F1'],
    rows: [
      ['cnn | small', '0.500'],
      ['**macro**', '0.250'],
    ],
    align: ['left', 'right'],
  },
  {
    kind: 'figure',
    file: 'x.svg',
    svg: '<svg xmlns="http://www.w3.org/2000/svg"><title>t</title></svg>',
    alt: 'x [1]',
    caption: 'The *x* chart.',
  },
  { kind: 'code', text: 'npm run fer -- report\n<done>' },
];

describe('renderMarkdown', () => {
  const md = renderMarkdown(blocks, { figureBase: '../report/' });

  it('writes headings, paragraphs, lists and code as Markdown', () => {
    expect(md).toContain('## Summary <1>\n');
    expect(md).toContain('- a & b\n- **bold** item');
    expect(md).toContain('```\nnpm run fer -- report\n<done>\n```');
  });

  it('writes tables with alignment and escapes pipes in cells', () => {
    expect(md).toContain('| Model | F1 |\n| --- | ---: |\n| cnn \\| small | 0.500 |\n| **macro** | 0.250 |');
  });

  it('links figures as files under the figure base, with the caption below', () => {
    expect(md).toContain('![x 1](../report/x.svg)\n\n*The *x* chart.*');
    expect(md).not.toContain('<svg');
  });
});

describe('renderHtml', () => {
  const html = renderHtml(blocks, 'Report & co');

  it('is one page with the SVG inline and the text escaped', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Report &amp; co</title>');
    expect(html).toContain('<h2>Summary &lt;1&gt;</h2>');
    expect(html).toContain('<figure>\n<svg xmlns="http://www.w3.org/2000/svg"><title>t</title></svg>');
    expect(html).not.toContain('x.svg');
    expect(html).toContain('<pre><code>npm run fer -- report\n&lt;done&gt;</code></pre>');
  });

  it('renders tables with right-aligned cells', () => {
    expect(html).toContain('<th class="r">F1</th>');
    expect(html).toContain('<tr><td>cnn | small</td><td class="r">0.500</td></tr>');
    expect(html).toContain('<td><strong>macro</strong></td>');
  });
});

describe('inlineHtml', () => {
  it('turns the three inline forms into tags and escapes the rest', () => {
    expect(inlineHtml('Run `fer report --runs <n>` and see **REPORT.md** or [cnn](cnn/README.md).')).toBe(
      'Run <code>fer report --runs &lt;n&gt;</code> and see <strong>REPORT.md</strong> or <a href="cnn/README.md">cnn</a>.',
    );
  });

  it('leaves markup inside code spans alone', () => {
    expect(inlineHtml('`**not bold** [x](y)`')).toBe('<code>**not bold** [x](y)</code>');
    expect(inlineHtml('a < b & "c"')).toBe('a &lt; b &amp; &quot;c&quot;');
  });
});
