// The report as a list of blocks, rendered twice: to Markdown (REPORT.md, model cards, with
// SVGs as files beside them) and to one self-contained HTML page (SVGs inline). Building the
// content once is what keeps the two saying the same thing.

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][]; align?: Array<'left' | 'right'> }
  | { kind: 'figure'; file: string; svg: string; alt: string; caption: string }
  | { kind: 'code'; text: string };

// Inline text in blocks may use three Markdown forms and no others: **bold**, `code` and
// [text](href). Everything else is literal text.

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The inline subset as HTML: code spans first, so ** or [ inside them stay literal. */
export function inlineHtml(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.length >= 2 && part.startsWith('`') && part.endsWith('`'))
        return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
    })
    .join('');
}

const mdCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export interface MarkdownOptions {
  /** Prefix of figure file paths as seen from the Markdown file, e.g. 'report/' or '../report/'. */
  figureBase: string;
}

export function renderMarkdown(blocks: readonly Block[], o: MarkdownOptions): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'paragraph':
        out.push(b.text);
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${i}`).join('\n'));
        break;
      case 'table': {
        const align = b.head.map((_, i) => (b.align?.[i] === 'right' ? '---:' : '---'));
        out.push([b.head, align, ...b.rows].map((row) => `| ${row.map(mdCell).join(' | ')} |`).join('\n'));
        break;
      }
      case 'figure':
        out.push(`![${b.alt.replace(/[[\]]/g, '')}](${o.figureBase}${b.file})\n\n*${b.caption}*`);
        break;
      case 'code':
        out.push(`\`\`\`\n${b.text}\n\`\`\``);
        break;
    }
  }
  return `${out.join('\n\n')}\n`;
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; color: #1a1a1a; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1, h2, h3 { line-height: 1.2; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f3f3f3; }
td.r, th.r { text-align: right; }
figure { margin: 1.5em 0; }
figcaption { font-size: 13px; color: #555; max-width: 800px; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
pre { background: #f3f3f3; padding: .8em; overflow-x: auto; }
svg { max-width: 100%; height: auto; }`;

export function renderHtml(blocks: readonly Block[], title: string): string {
  const body: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        body.push(`<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        body.push(`<p>${inlineHtml(b.text)}</p>`);
        break;
      case 'list':
        body.push(`<ul>\n${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('\n')}\n</ul>`);
        break;
      case 'table': {
        const cls = (i: number) => (b.align?.[i] === 'right' ? ' class="r"' : '');
        const head = b.head.map((h, i) => `<th${cls(i)}>${inlineHtml(h)}</th>`).join('');
        const rows = b.rows.map(
          (row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${inlineHtml(c)}</td>`).join('')}</tr>`,
        );
        body.push(
          `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`,
        );
        break;
      }
      case 'figure':
        body.push(`<figure>\n${b.svg}\n<figcaption>${inlineHtml(b.caption)}</figcaption>\n</figure>`);
        break;
      case 'code':
        body.push(`<pre><code>${escapeHtml(b.text)}</code></pre>`);
        break;
    }
  }
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}\n</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
