import { access } from 'node:fs/promises';
import type { Repo } from '../../repo/repo.js';
import { readLinkTarget } from './activate.js';
import { readBisectState } from '../bisect/state.js';
import { type ActiveRecord, DEFAULT_PROFILE, listGenerations, readActive } from '../profiles.js';

export interface Status {
  profile: string;
  active: ActiveRecord | null;
  /** What the recorded link points at now (null when it is gone). */
  linkTarget: string | null;
  /** True when the link points at the active target and that directory is there. */
  linkOk: boolean;
  generations: number;
  newest: number | null;
  /** The commit a bisect session has at the link, when one is in progress. */
  bisecting: string | null;
}

/** The active generation of a profile, its link and what the link shows now. */
export async function status(repo: Repo, opts: { profile?: string } = {}): Promise<Status> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const active = (await readActive(repo, profile)) ?? null;
  const gens = await listGenerations(repo, profile);
  const linkTarget = active?.link ? await readLinkTarget(active.link).catch(() => null) : null;
  const reachable = linkTarget !== null && (await access(linkTarget).then(() => true, () => false));
  const bisect = await readBisectState(repo);
  return {
    profile,
    active,
    linkTarget,
    linkOk: active !== null && linkTarget === active.target && reachable,
    generations: gens.length,
    newest: gens.at(-1)?.number ?? null,
    bisecting: bisect && bisect.profile === profile ? bisect.current : null,
  };
}
