import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { childProcess } from './child.js';
import { processAlive } from './process.js';
import { crashPoint } from './crash-point.js';

/*
 * Atomic replacement of a file (or a symlink) by temp file and rename.
 *
 * The new content is written in full to a temp file named by `tempName`
 * (`<tag>-<pid>-<unique>`) in a scratch directory on the same filesystem as
 * the destination, then renamed over the destination. rename(2) replaces the
 * name in one step, so the crash rule is:
 *
 * - At any moment, and after a crash at any point, a reader of the
 *   destination sees the whole old content (or no file, if there was none)
 *   or the whole new content; never a mix, never a truncated file.
 * - Without `fsync`, "crash" means the process dying: the kernel still holds
 *   the data. After a power loss the rename may survive and the data not
 *   (an empty or short file), depending on the filesystem. With `fsync`, the
 *   temp file is flushed before the rename and the directory after it, so
 *   once the call returns the new content survives a power loss too.
 * - A temp file lives only between its creation and the rename. When the
 *   write or the rename fails, the function that made it removes it before
 *   rethrowing. When the process dies in between, the temp file stays behind:
 *   `Repo.open` removes every entry of `<repo>/tmp` whose name `tempOwner`
 *   parses to a pid that is no longer alive (tags must be lowercase letters
 *   for that). Temp files outside `<repo>/tmp` (a symlink swapped beside its
 *   link) are nobody's to sweep; they are rare and harmless.
 */

// Random, so that a process that reuses a dead one's pid does not meet its
// temp names; not secret (temp entries are made exclusively, never opened
// by name): Math.random spares short commands loading node:crypto.
const PROCESS_TAG = Math.floor(Math.random() * 0x1_0000_0000)
  .toString(16)
  .padStart(8, '0');
let seq = 0;

/**
 * A unique temp file name inside `dir`: `<tag>-<pid>-<random per process><counter>`.
 * The pid lets the stale-temp sweep (`tempOwner`) tell whose it is.
 */
export function tempName(dir: string, tag = 'tmp'): string {
  return join(dir, `${tag}-${process.pid}-${PROCESS_TAG}${(seq++).toString(36)}`);
}

/** The pid that made temp entry `name` (a `tempName` with a lowercase tag), or undefined. */
export function tempOwner(name: string): number | undefined {
  const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1]);
  return pid > 0 ? pid : undefined;
}

/** Options of an atomic replacement; defaults as documented on each field. */
export interface AtomicOptions {
  /** Scratch directory on the destination's filesystem (default: the destination's directory). */
  tmpDir?: string;
  /** Tag of the temp name (default `tmp`); lowercase letters, so the stale-temp sweep knows it. */
  tag?: string;
  /** Flush the file before the rename and its directory after it (default false). */
  fsync?: boolean;
  /** Create the destination's directory and `tmpDir` when missing (default true; false in hot loops where they exist). */
  mkdir?: boolean;
}

/**
 * Replaces `path` by whatever `fill` makes at the temp path it is given
 * (a file it writes, a symlink it creates), under the crash rule above. The
 * directories of `path` and of the temp file are created when missing. On
 * any failure, of `fill` or of the rename, the temp path is removed and the
 * error rethrown: `path` keeps its old content.
 */
export async function replaceAtomic<T>(path: string, opts: AtomicOptions, fill: (tmp: string) => Promise<T>): Promise<T> {
  const tmpDir = opts.tmpDir ?? dirname(path);
  if (opts.mkdir !== false) {
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
  }
  const tmp = tempName(tmpDir, opts.tag);
  try {
    const result = await fill(tmp);
    crashPoint('atomic:filled');
    if (opts.fsync) await fsyncPath(tmp);
    await rename(tmp, path);
    if (opts.fsync) await fsyncPath(dirname(path));
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Synchronous `replaceAtomic`: for blocking bulk work (checkout), and for the
 * few small records a short command writes (`switch`), where each thread-pool
 * round trip of the asynchronous calls costs more than the write itself.
 */
export function replaceAtomicSync<T>(path: string, opts: AtomicOptions, fill: (tmp: string) => T): T {
  const tmpDir = opts.tmpDir ?? dirname(path);
  if (opts.mkdir !== false) {
    mkdirSync(tmpDir, { recursive: true });
    mkdirSync(dirname(path), { recursive: true });
  }
  const tmp = tempName(tmpDir, opts.tag);
  try {
    const result = fill(tmp);
    crashPoint('atomic:filled');
    if (opts.fsync) fsyncPathSync(tmp);
    renameSync(tmp, path);
    if (opts.fsync) fsyncPathSync(dirname(path));
    return result;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions extends AtomicOptions {
  /** Permission bits of the new file (default 0644, less the umask). */
  mode?: number;
}

/** Writes the whole of `data` to `path` by temp file and rename (see the crash rule above). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  await replaceAtomic(path, opts, (tmp) => writeFile(tmp, data, { mode: opts.mode ?? 0o644, flag: 'wx' }));
}

/** Synchronous `writeFileAtomic`, for a small record (see replaceAtomicSync). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  replaceAtomicSync(path, opts, (tmp) => writeFileSync(tmp, data, { mode: opts.mode ?? 0o644, flag: 'wx' }));
}

/**
 * Points the symlink `link` at `target` by creating it under a temp name in
 * the link's own directory and renaming it over `link`: the path resolves to
 * the old target or the new one, never to nothing. Blocking calls: a handful
 * of syscalls on a short command's path (see replaceAtomicSync).
 */
export function symlinkAtomic(target: string, link: string, opts: Pick<AtomicOptions, 'tag'> = {}): void {
  sweepStaleTemps(dirname(link), opts.tag ?? 'tmp');
  replaceAtomicSync(link, { tag: opts.tag }, (tmp) => symlinkSync(target, tmp));
}

/**
 * Removes the temp entries named `<tag>-<pid>-…` in `dir` whose process is
 * gone: what a process killed between making a temp file outside
 * `<repo>/tmp` (a symlink beside its link) and renaming it left behind.
 */
export function sweepStaleTemps(dir: string, tag: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `${tag}-`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (pid > 0 && pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { force: true });
  }
}

/** fsync(2) of a file or directory by path. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One syncfs(2) of the filesystem holding `path` (coreutils `sync -f`). */
export async function syncfs(path: string): Promise<void> {
  await promisify(childProcess().execFile)('sync', ['-f', path]);
}
