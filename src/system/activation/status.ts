import type { Repo } from '../../repo/repo.js';
import { readBisectState } from '../bisect/state.js';
import { type ActiveRecord, DEFAULT_PROFILE, listGenerations, readActive } from '../profiles.js';
import { type GenerationOrigin, readOrigin } from '../generations/published.js';
import { readPartial, remainingOf } from '../../repo/partial.js';
import { checkLink, type LinkCheck, linkProblem, sweepLinkTemps, switchCommand } from './link.js';

export interface Status {
  profile: string;
  active: ActiveRecord | null;
  /** What the recorded link points at now (null when it is gone). */
  linkTarget: string | null;
  /** True when the link points at the active target and that directory is there. */
  linkOk: boolean;
  /** The state of the recorded link (null: nothing active); see LinkCheck. */
  link: LinkCheck | null;
  /** What is wrong with the link and how to recover, in one line; null when nothing is (or nothing is active). */
  problem: string | null;
  generations: number;
  newest: number | null;
  /** The commit a bisect session has at the link, when one is in progress. */
  bisecting: string | null;
  /** Where the active generation came from, when `trove upgrade` recorded it from a remote. */
  origin: GenerationOrigin | null;
  /**
   * When the active commit is partial (installed or upgraded --lazy): the
   * files of it still on its remotes, which the view fetches as they are read.
   */
  notFetched: { objects: number; bytes: number; remotes: string[] } | null;
}

/** The active generation of a profile, its link and what the link shows now. */
export async function status(repo: Repo, opts: { profile?: string } = {}): Promise<Status> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const active = (await readActive(repo, profile)) ?? null;
  const gens = await listGenerations(repo, profile);
  const bisect = await readBisectState(repo);
  const bisecting = bisect && bisect.profile === profile ? bisect.current : null;
  let link: LinkCheck | null = null;
  let problem: string | null = null;
  if (active && !active.link) {
    problem = `the active record names no link (an older trove was interrupted while writing it); run: ${switchCommand(active)} --link PATH`;
  } else if (active) {
    sweepLinkTemps(active.link);
    link = await checkLink(repo, active.link, active.target);
    // During a bisect the link shows a candidate, not the record's target: only a broken link is a problem.
    problem = bisecting && link.state === 'elsewhere' ? null : linkProblem(active, link);
  }
  return {
    profile,
    active,
    linkTarget: link?.pointsAt ?? null,
    linkOk: link?.state === 'ok',
    link,
    problem,
    generations: gens.length,
    newest: gens.at(-1)?.number ?? null,
    bisecting,
    origin: active && active.generation !== null ? await readOrigin(repo, profile, active.generation, active.commit) : null,
    notFetched: active ? notFetchedOf(repo, active.commit) : null,
  };
}

/** The files of a partial commit still on its remotes (a walk of its trees, a stat per file), or null when it is complete. */
function notFetchedOf(repo: Repo, commit: string): Status['notFetched'] {
  const rec = readPartial(repo.path, commit);
  if (!rec) return null;
  try {
    return { ...remainingOf(repo, commit), remotes: rec.remotes };
  } catch {
    // A tree that cannot be read is fsck's to report; status only says the commit is partial.
    return { objects: 0, bytes: 0, remotes: rec.remotes };
  }
}
