import { structuredPatch } from 'diff';
import type { Change } from './diff.js';

/**
 * Unified content diffs (`trove diff -p`, `trove show -p`), made with jsdiff
 * (the `diff` package) rather than a diff of our own. Files are compared as
 * text when both sides are UTF-8 without NUL bytes and no larger than
 * TEXT_MAX; otherwise "Binary files ... differ" is printed, as git does.
 */

/** Larger files are not compared line by line. */
export const TEXT_MAX = 8 << 20;
/** Edits beyond this many lines give up the line diff (jsdiff's maxEditLength). */
const MAX_EDIT = 20_000;

/** Reads the content of a side of a change (a file's bytes, by id or from disk). */
export type ContentReader = (which: 'old' | 'new', c: Change) => Promise<Uint8Array>;

function asText(bytes: Uint8Array): string | undefined {
  if (bytes.length > TEXT_MAX || bytes.subarray(0, 8000).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The git-style patch of one change: header lines, then hunks or a "Binary files" line. */
export async function patchOf(c: Change, read: ContentReader): Promise<string[]> {
  const a = `a/${c.path}`;
  const b = `b/${c.path}`;
  const lines = [`diff --git ${a} ${b}`];
  const typeMode = (kind: Change['entryKind'], mode?: string) => `${kind === 'symlink' ? '12' : kind === 'dir' ? '04' : '10'}${mode ?? ''}`;
  if (c.kind === 'added') lines.push(`new file mode ${typeMode(c.entryKind, c.newMode)}`);
  else if (c.kind === 'removed') lines.push(`deleted file mode ${typeMode(c.entryKind, c.oldMode)}`);
  else if (c.oldMode !== c.newMode) lines.push(`old mode ${typeMode(c.entryKind, c.oldMode)}`, `new mode ${typeMode(c.entryKind, c.newMode)}`);
  if (c.kind === 'modified' && (c.oldUid !== c.newUid || c.oldGid !== c.newGid)) lines.push(`old owner ${c.oldUid}:${c.oldGid}`, `new owner ${c.newUid}:${c.newGid}`);
  if (c.entryKind === 'dir') return lines;
  const hasContent = (which: 'old' | 'new') => (which === 'old' ? c.kind !== 'added' : c.kind !== 'removed');
  // Symlinks are compared by target, as git does.
  const text = async (which: 'old' | 'new'): Promise<string | undefined> => {
    if (!hasContent(which)) return '';
    if (c.entryKind === 'symlink') return `${(which === 'old' ? c.oldTarget : c.newTarget) ?? ''}\n`;
    return asText(await read(which, c));
  };
  if (c.kind === 'modified' && c.oldId === c.newId && c.oldTarget === c.newTarget) return lines;
  const oldText = await text('old');
  const newText = await text('new');
  const from = hasContent('old') ? a : '/dev/null';
  const to = hasContent('new') ? b : '/dev/null';
  if (oldText === undefined || newText === undefined) {
    lines.push(`Binary files ${from} and ${to} differ`);
    return lines;
  }
  const patch = structuredPatch(from, to, oldText, newText, undefined, undefined, { context: 3, maxEditLength: MAX_EDIT });
  if (!patch) {
    lines.push(`Files ${from} and ${to} differ (more than ${MAX_EDIT} lines changed; not shown line by line)`);
    return lines;
  }
  lines.push(`--- ${from}`, `+++ ${to}`);
  for (const h of patch.hunks) {
    // An empty range starts at the line before it, as in git and GNU diff.
    const start = (n: number, count: number) => (count === 0 ? n - 1 : n);
    lines.push(`@@ -${start(h.oldStart, h.oldLines)},${h.oldLines} +${start(h.newStart, h.newLines)},${h.newLines} @@`);
    lines.push(...h.lines);
  }
  return lines;
}
