import { usage } from '../../util/errors.js';
import type { Repo } from '../../repo/repo.js';
import { readCommit } from '../../repo/objects.js';
import { DEFAULT_PROFILE, deleteGeneration, listGenerations, readActive, withProfileLock } from '../profiles.js';

export interface PruneOptions {
  profile?: string;
  /** Keep the N newest generations. */
  keep?: number;
  /** Remove generations whose commit is older than this many seconds. */
  olderThan?: number;
  dryRun?: boolean;
  /** Seconds since the epoch; default now. */
  now?: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `90s`, `15m`, `12h`, `30d`, `2w` in seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw usage(`bad duration ${JSON.stringify(text)} (expected a number and s, m, h, d or w, e.g. 30d)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/**
 * Forgets old generations of a profile; their objects go at the next gc. A
 * generation is removed only when every given criterion says so; the active
 * generation and the newest one are always kept (so numbers are never reused).
 */
export async function pruneGenerations(repo: Repo, opts: PruneOptions): Promise<{ removed: number[]; kept: number[] }> {
  if (opts.keep === undefined && opts.olderThan === undefined) throw usage('gen prune needs --keep N or --older-than DURATION');
  if (opts.keep !== undefined && (!Number.isSafeInteger(opts.keep) || opts.keep < 0)) throw usage('--keep must be a whole number');
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  // Under the profile lock: the active and newest generation it keeps are the current ones.
  return withProfileLock(repo, profile, async () => {
    const gens = await listGenerations(repo, profile);
    const active = await readActive(repo, profile);
    const removed: number[] = [];
    const kept: number[] = [];
    for (const [i, g] of gens.entries()) {
      const newest = i === gens.length - 1;
      const isActive = active?.commit === g.commit;
      const byCount = opts.keep === undefined || i < gens.length - opts.keep;
      const byAge = opts.olderThan === undefined || (await readCommit(repo.store, g.commit)).timestamp < now - opts.olderThan;
      if (!newest && !isActive && byCount && byAge) removed.push(g.number);
      else kept.push(g.number);
    }
    if (!opts.dryRun) for (const n of removed) await deleteGeneration(repo, profile, n);
    return { removed, kept };
  });
}
