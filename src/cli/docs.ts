import { readFileSync } from 'node:fs';

/**
 * The command reference, docs/cli.md, is the one text of the help topics and
 * the man pages: `trove help revisions` prints its "Revisions" section and
 * scripts/man.mjs puts the sections into roff. (Two levels up from both
 * src/cli and dist/cli.)
 */
const CLI_MD = new URL('../../docs/cli.md', import.meta.url);

/** Help topics: `trove help NAME`, by the docs/cli.md heading (`## ...`) they print. */
export const HELP_TOPICS: Record<string, { heading: string; summary: string }> = {
  revisions: { heading: 'Revisions', summary: 'how to name a commit: refs, ids, generations, ~N and ^N' },
  'exit-codes': { heading: 'Exit status', summary: 'exit statuses and error codes, the error line, --json errors' },
  environment: { heading: 'Environment', summary: 'environment variables trove reads' },
};

let cached: string | undefined;

function reference(): string {
  cached ??= readFileSync(CLI_MD, 'utf8');
  return cached;
}

/** The markdown body of the section under `## HEADING` (or `### HEADING`), without its heading line. */
export function docSection(heading: string, level = 2): string {
  const lines = reference().split('\n');
  const marker = `${'#'.repeat(level)} `;
  const start = lines.findIndex((l) => l === `${marker}${heading}`);
  if (start < 0) throw new Error(`docs/cli.md has no section '${marker}${heading}'`);
  let end = start + 1;
  while (end < lines.length && !/^#{1,6} /.test(lines[end]!) ) end++;
  if (level === 2) {
    // A level-2 section includes its ### subsections.
    while (end < lines.length && !/^#{1,2} /.test(lines[end]!)) end++;
  }
  return lines.slice(start + 1, end).join('\n').trim();
}

/** Every `### \`trove ...\`` heading of docs/cli.md with its body: the long text of each command. */
export function commandSections(): { heading: string; body: string }[] {
  const out: { heading: string; body: string }[] = [];
  const lines = reference().split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^### (`trove .*)$/.exec(lines[i]!);
    if (!m) continue;
    let end = i + 1;
    while (end < lines.length && !/^#{1,3} /.test(lines[end]!)) end++;
    out.push({ heading: m[1]!, body: lines.slice(i + 1, end).join('\n').trim() });
  }
  return out;
}

/** Markdown inline markup as plain text: code spans and links lose their markup. */
function inlineText(s: string): string {
  return s.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1').replace(/`([^`]*)`/g, '$1').replace(/\*\*([^*]+)\*\*/g, '$1');
}

function wrap(text: string, indent: string, width = 78): string[] {
  const out: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent;
    }
    line += (line.length > indent.length ? ' ' : '') + word;
  }
  if (line.length > indent.length) out.push(line);
  return out;
}

function tableCells(row: string): string[] {
  return row.replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** A block of markdown: a paragraph, a list item, a table (its rows of cells) or a code block. */
type Block = { kind: 'para' | 'item'; text: string } | { kind: 'table'; rows: string[][] } | { kind: 'code'; lines: string[] };

/** Splits markdown into blocks; a paragraph's or list item's lines are joined into one text. */
function blocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) rows.push(tableCells(lines[i++]!));
      // Header and separator rows carry no content.
      out.push({ kind: 'table', rows: rows.slice(2) });
    } else if (line.startsWith('    ')) {
      const code: string[] = [];
      while (i < lines.length && (lines[i]!.startsWith('    ') || (lines[i]!.trim() === '' && lines[i + 1]?.startsWith('    ')))) code.push(lines[i++]!.slice(4));
      out.push({ kind: 'code', lines: code });
    } else {
      const item = /^\s*[-*] (.*)$/.exec(line);
      const text = [item ? item[1]! : line.trim()];
      i++;
      while (i < lines.length && lines[i]!.trim() !== '' && !lines[i]!.startsWith('|') && !/^\s*[-*] /.test(lines[i]!) && !(lines[i]!.startsWith('    ') && !item)) {
        text.push(lines[i++]!.trim());
      }
      out.push({ kind: item ? 'item' : 'para', text: text.join(' ') });
    }
  }
  return out;
}

/** A markdown section as terminal text: paragraphs filled to 78 columns, tables as an indented list. */
export function markdownToText(md: string): string {
  const out: string[] = [];
  for (const b of blocks(md)) {
    if (out.length > 0) out.push('');
    if (b.kind === 'para') out.push(...wrap(inlineText(b.text), ''));
    else if (b.kind === 'item') out.push(...wrap(inlineText(b.text), '  ').map((l, i) => (i === 0 ? `- ${l.slice(2)}` : l)));
    else if (b.kind === 'code') out.push(...b.lines.map((l) => `    ${l}`));
    else if (b.kind === 'table') {
      // Each row is its first cells, then the last one wrapped below.
      for (const cells of b.rows) {
        out.push(`  ${cells.slice(0, -1).map(inlineText).join('  ')}`);
        out.push(...wrap(inlineText(cells.at(-1)!), '      '));
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** Escapes text for roff: backslashes, and a leading dot or quote. */
export function roffEscape(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1');
}

/** Inline markdown as roff: code spans bold, links as their text. */
function inlineRoff(s: string): string {
  const parts = s.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1').split(/(`[^`]*`|\*\*[^*]+\*\*)/);
  return parts
    .map((p) => (p.startsWith('`') ? `\\fB${roffEscape(p.slice(1, -1))}\\fR` : p.startsWith('**') ? `\\fB${roffEscape(p.slice(2, -2))}\\fR` : roffEscape(p)))
    .join('');
}

/** A markdown body as roff (man(7)): paragraphs, tables as tagged paragraphs, lists, code blocks. */
export function markdownToRoff(md: string): string {
  const out: string[] = [];
  for (const b of blocks(md)) {
    if (b.kind === 'para') out.push('.PP', inlineRoff(b.text));
    else if (b.kind === 'item') out.push('.IP \\(bu 2', inlineRoff(b.text));
    else if (b.kind === 'code') out.push('.PP', '.nf', ...b.lines.map(roffEscape), '.fi');
    else if (b.kind === 'table') for (const cells of b.rows) out.push('.TP', cells.slice(0, -1).map(inlineRoff).join('  '), inlineRoff(cells.at(-1)!));
  }
  return `${out.join('\n')}\n`;
}
