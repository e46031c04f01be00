import type { GenerationDiff } from '../system/generations/diff.js';
import type { Summary } from '../remote/summary.js';

/**
 * The shapes `--json` prints where the library's own names differ from the
 * JSON vocabulary of docs/cli.md ("JSON vocabulary"): one key for one thing in
 * every command. (Modes become octal strings in printJson itself.)
 */

/** A generation number is `generation`: `{number, ...}` becomes `{generation, ...}`. */
export function numbered<T extends { number: number | null }>(r: T): Omit<T, 'number'> & { generation: T['number'] } {
  const { number, ...rest } = r;
  return { generation: number, ...rest };
}

/** The same, for a value that may be null. */
export function numberedOrNull<T extends { number: number | null }>(r: T | null): (Omit<T, 'number'> & { generation: T['number'] }) | null {
  return r === null ? null : numbered(r);
}

/** Changed paths are `changes` (as in diff): a generation diff's `files` becomes `changes`. */
export function generationDiffJson(d: GenerationDiff): { packages: GenerationDiff['packages']; changes: GenerationDiff['files'] } {
  return { packages: d.packages, changes: d.files };
}

/** A summary with its published generations numbered as `generation`. */
export function summaryJson(s: Summary): Omit<Summary, 'generations'> & { generations?: Record<string, ReturnType<typeof numbered>[]> } {
  const { generations, ...rest } = s;
  if (!generations) return rest;
  return { ...rest, generations: Object.fromEntries(Object.entries(generations).map(([p, gs]) => [p, gs.map(numbered)])) };
}
