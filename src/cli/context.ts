import type { Command } from 'commander';
import { defaultRepoPath, Repo } from '../repo/repo.js';
import { io } from '../util/io.js';

/** The output streams and environment of the running command (see main). */
export { io };

/** Options every command accepts (declared once on the program). */
export interface GlobalOptions {
  repo?: string;
  /** `-q`: data and errors only. */
  quiet?: boolean;
  /** `-v`: detail on stderr. */
  verbose?: boolean;
  /** `--progress` (true), `--no-progress` (false), or neither (undefined: on a terminal only). */
  progress?: boolean;
}

export { detail, note, say, setVerbosity, verbosity } from './verbosity.js';

/** The repository path from `--repo` (the option's value, or undefined), `$TROVE_REPO` or `./repo`. */
function repoPathOf(repoOption: string | undefined): string {
  return repoOption ?? defaultRepoPath(io().env);
}

/** The repository path from the command's `--repo`, `$TROVE_REPO` or `./repo`. */
export function repoPath(cmd: Command): string {
  return repoPathOf(cmd.optsWithGlobals<GlobalOptions>().repo);
}

/** Opens the repository for a command and closes it when `fn` is done. */
export function withRepo<T>(cmd: Command, fn: (repo: Repo) => Promise<T>): Promise<T> {
  return withRepoAt(cmd.optsWithGlobals<GlobalOptions>().repo, fn);
}

/** `withRepo` for the repository `--repo` names (undefined: `$TROVE_REPO` or `./repo`). */
export async function withRepoAt<T>(repoOption: string | undefined, fn: (repo: Repo) => Promise<T>): Promise<T> {
  const repo = await Repo.open(repoPathOf(repoOption));
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

/** Writes a line to stdout. */
export function print(line = ''): void {
  io().stdout.write(`${line}\n`);
}

/** A file mode in JSON: an octal string (`"0644"`), as the text output shows it. */
function octalModes(key: string, value: unknown): unknown {
  return key === 'mode' && typeof value === 'number' ? value.toString(8).padStart(4, '0') : value;
}

/** Writes `value` as pretty JSON to stdout; every numeric `mode` as an octal string (docs/cli.md, JSON vocabulary). */
export function printJson(value: unknown): void {
  io().stdout.write(`${JSON.stringify(value, octalModes, 2)}\n`);
}
