// How much a run says (`-q`, `-v`): kept apart from context.ts so that main,
// which sets it, loads nothing of the repository layer.
import { usage } from '../util/errors.js';
import { type Io, io } from '../util/io.js';

/** How much a run says: -1 with `-q`, 1 with `-v`, else 0; set once per run (see main). */
const levels = new WeakMap<Io, -1 | 0 | 1>();

export function setVerbosity(level: -1 | 0 | 1): void {
  levels.set(io(), level);
}

/** Applies the global `-q` and `-v` of a run (they exclude each other). */
export function applyGlobals(g: { quiet?: boolean; verbose?: boolean }): void {
  if (g.quiet && g.verbose) throw usage('-q and -v exclude each other');
  setVerbosity(g.quiet ? -1 : g.verbose ? 1 : 0);
}

export function verbosity(): -1 | 0 | 1 {
  return levels.get(io()) ?? 0;
}

/**
 * Writes a confirmation or summary line to stdout: what a command did
 * (`os/main -> <id>`, `deleted 3 objects`), as opposed to the data it was
 * asked for. Not under `-q`.
 */
export function say(line = ''): void {
  if (verbosity() >= 0) io().stdout.write(`${line}\n`);
}

/** Writes an informational note or hint to stderr (`waiting for ...`, `activate it with ...`). Not under `-q`. */
export function note(line: string): void {
  if (verbosity() >= 0) io().stderr.write(`${line}\n`);
}

/** Writes a detail line to stderr, only under `-v`. */
export function detail(line: string): void {
  if (verbosity() > 0) io().stderr.write(`${line}\n`);
}
