import type { Change } from '../repo/diff.js';
import type { ActivateResult } from '../system/activation/activate.js';
import type { BuildResult } from '../system/generations/build.js';
import type { GenerationDiff } from '../system/generations/diff.js';
import { print, say } from './context.js';

/**
 * Text the commands print, shared between them: value formats (bytes, modes,
 * short ids) and the printers of results more than one command shows. A
 * command module imports these, never another command module.
 */

/** `N file` or `N files`. */
export function files(n: number): string {
  return `${n} file${n === 1 ? '' : 's'}`;
}

/** Human-readable byte count. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** `0755`-style mode text. */
export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** The first 12 hex digits of an object id. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

const MARK = { added: 'A', removed: 'D', modified: 'M' } as const;

/**
 * `A path`, `D path` or `M path` (directories with a trailing /); a
 * modification of mode or owner shows both: `M 0644 -> 0755 usr/bin/x`,
 * `M 0:0 -> 1000:1000 home/u`.
 */
export function changeLine(c: Change): string {
  const meta: string[] = [];
  if (c.kind === 'modified' && c.oldMode !== c.newMode) meta.push(`${c.oldMode} -> ${c.newMode} `);
  if (c.kind === 'modified' && (c.oldUid !== c.newUid || c.oldGid !== c.newGid)) meta.push(`${c.oldUid}:${c.oldGid} -> ${c.newUid}:${c.newGid} `);
  return `${MARK[c.kind]} ${meta.join('')}${c.path}${c.entryKind === 'dir' ? '/' : ''}`;
}

/** Prints a built generation and every conflict it resolved (gen build, install, remove). */
export function printBuild(r: BuildResult): void {
  if (r.unchanged) say(`generation ${r.number} of ${r.profile} already has exactly these packages (${shortId(r.commit)}); nothing new`);
  else say(`generation ${r.number} of ${r.profile}: ${r.commit}`);
  say(`${r.packages.length} packages, ${r.conflicts.length} conflicts; read ${r.treesRead} trees, wrote ${r.written.objects} new objects (${bytes(r.written.bytes)})`);
  if (r.dependencies.length) say(`dependencies (${r.dependencies.length}): ${r.dependencies.join(' ')}`);
  for (const c of r.conflicts) say(`conflict ${c.path}: ${c.winner} wins over ${c.losers.join(', ')}`);
}

/** Prints package and file changes between two generations (gen diff, bisect). */
export function printGenerationDiff(d: GenerationDiff): void {
  for (const p of d.packages.added) print(`+ ${p}`);
  for (const p of d.packages.removed) print(`- ${p}`);
  for (const c of d.packages.changed) print(`~ ${c.from} -> ${c.to}`);
  for (const c of d.files) print(changeLine(c));
  const p = d.packages;
  print(`${p.added.length} packages added, ${p.removed.length} removed, ${p.changed.length} changed; ${d.files.length} paths changed`);
}

/** Prints what an activation did (switch, rollback, install, remove). */
export function printActivation(r: ActivateResult): void {
  const gen = r.generation === null ? `commit ${shortId(r.commit)}` : `generation ${r.generation} (${shortId(r.commit)})`;
  say(`${r.profile}: ${gen} active; ${r.link} -> ${r.target}${r.made ? ' (new checkout)' : ''}`);
  for (const note of r.notes) say(`note: ${note}`);
}

/**
 * Rows as aligned text: every column but the last padded to its widest cell
 * (by code points), two spaces between columns.
 */
export function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('  '));
}
