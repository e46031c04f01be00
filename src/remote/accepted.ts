import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { badObject, isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Repo } from '../repo/repo.js';
import { assertRemoteName } from './config.js';
import { encodeSummary, parseSummary, type Summary } from './summary.js';

/*
 * The last summary accepted from each remote, `<repo>/remotes/<name>/summary`:
 * what `status` compares against without the network, and what a newer
 * summary must not be older than (a replayed signed summary would move refs
 * back). See "Malicious servers and mirrors" in docs/remote.md.
 */

/** `<repo>/remotes/<name>/summary`: the last summary accepted from remote `name`. */
export function cachedSummaryPath(repo: Pick<Repo, 'path'>, name: string): string {
  assertRemoteName(name);
  return join(repo.path, 'remotes', name, 'summary');
}

/** Records `summary` as the last one accepted from remote `name`. */
export async function cacheSummary(repo: Pick<Repo, 'path' | 'tmpDir'>, name: string, summary: Summary): Promise<void> {
  const path = cachedSummaryPath(repo, name);
  await mkdir(join(repo.path, 'remotes', name), { recursive: true });
  await writeFileAtomic(path, encodeSummary(summary), { tmpDir: repo.tmpDir, tag: 'file' });
}

/** The cached summary of remote `name` and when it was fetched, or undefined. */
export async function readCachedSummary(repo: Pick<Repo, 'path'>, name: string): Promise<{ summary: Summary; fetched: number } | undefined> {
  const path = cachedSummaryPath(repo, name);
  try {
    const [bytes, st] = await Promise.all([readFile(path), stat(path)]);
    return { summary: parseSummary(bytes), fetched: Math.floor(st.mtimeMs / 1000) };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** How a fetched summary is checked against the one accepted before. */
export interface AcceptOptions {
  repo: Pick<Repo, 'path' | 'tmpDir'>;
  /** Record the summary as accepted (default true; false for dry runs and reads that change nothing). */
  record?: boolean;
  /** Accept a signed summary older than the one accepted before (`pull --allow-downgrade`). */
  allowDowngrade?: boolean;
  /** Seconds since the epoch (default now). */
  now?: number;
}

const when = (t: number): string => new Date(t * 1000).toISOString();

/**
 * Refuses (E_BAD_OBJECT, `refused: ...`) a summary past its `expires`, and,
 * from a remote with a signing key, one older than the last accepted from
 * that remote (unless `allowDowngrade`); then records it as accepted. An
 * unsigned remote is trusted to say anything, so only its expiry is checked.
 */
export async function acceptSummary(name: string, summary: Summary, signed: boolean, opts: AcceptOptions): Promise<void> {
  const now = opts.now ?? Date.now() / 1000;
  if (summary.expires !== undefined && summary.expires <= now) {
    throw badObject(
      `refused: the summary of remote ${name} expired at ${when(summary.expires)} (written ${when(summary.timestamp)}); ` +
        `the server or a mirror serves a stale summary (run trove summary there)`,
      { remote: name },
    );
  }
  if (signed && !opts.allowDowngrade) {
    const before = await readCachedSummary(opts.repo, name);
    if (before && summary.timestamp < before.summary.timestamp) {
      throw badObject(
        `refused: the summary of remote ${name} was written ${when(summary.timestamp)}, before the one accepted from it already ` +
          `(written ${when(before.summary.timestamp)}): an old summary replayed; trove pull --allow-downgrade ${name} accepts it`,
        { remote: name },
      );
    }
  }
  if (opts.record !== false) await cacheSummary(opts.repo, name, summary);
}
