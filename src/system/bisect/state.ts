import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, isErrno } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import type { Repo } from '../../repo/repo.js';

export type Verdict = 'good' | 'bad' | 'skip';

/** A bisect session, kept in `<repo>/bisect.json` between commands. */
export interface BisectState {
  profile: string;
  /** The link every step swaps. */
  link: string;
  ref: string | null;
  /**
   * What is bisected: the first-parent history of a commit, or the numbered
   * generations of the profile (generation commits have no parents).
   */
  history: 'first-parent' | 'generations';
  bad: ObjectId;
  good: ObjectId;
  /** The history strictly after `good` up to `bad`, oldest first. */
  commits: ObjectId[];
  marks: Record<ObjectId, Verdict>;
  /** The candidate at the link, or null when the search is over. */
  current: ObjectId | null;
  /** The first bad commit once found. */
  firstBad: ObjectId | null;
  /** Commits tested, in order, with their verdicts. */
  log: { commit: ObjectId; verdict: Verdict }[];
  /** What the link pointed at before the session (null: there was no link). */
  before: string | null;
  /**
   * For a bisect of a remote's published generations (`bisect start
   * --remote`): the remote, its profile and the generation number of good,
   * bad and every candidate; each candidate is pulled when it is tested.
   */
  remote?: RemoteBisect;
  /**
   * Candidates are activated through the view even when partial, and a
   * remote bisect pulls each lazily (`bisect start --lazy`): only its commit
   * and trees, its files fetched as the test reads them.
   */
  lazy?: boolean;
  /** What was fetched to bring each commit here, by commit (remote bisects). */
  fetched?: Record<ObjectId, { objects: number; bytes: number }>;
}

/** The remote side of a bisect of published generations. */
export interface RemoteBisect {
  name: string;
  profile: string;
  /** Good, the candidates and bad, oldest first, with the remote's generation numbers. */
  generations: { number: number; commit: ObjectId }[];
}

/** The file of the bisect session in progress. */
export function statePath(repo: Pick<Repo, 'path'>): string {
  return join(repo.path, 'bisect.json');
}

/** The bisect session in progress, or undefined. */
export async function readBisectState(repo: Pick<Repo, 'path'>): Promise<BisectState | undefined> {
  try {
    return JSON.parse(readFileSync(statePath(repo), 'utf8')) as BisectState;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (err instanceof SyntaxError) throw corrupt(`${statePath(repo)} is not valid JSON`, { path: statePath(repo) });
    throw err;
  }
}

export async function writeBisectState(repo: Pick<Repo, 'path'>, state: BisectState): Promise<void> {
  await writeFileAtomic(statePath(repo), JSON.stringify(state), { tmpDir: join(repo.path, 'tmp'), tag: 'bisect' });
}

export async function clearBisectState(repo: Pick<Repo, 'path'>): Promise<void> {
  await rm(statePath(repo), { force: true });
}
