import { rm } from 'node:fs/promises';
import { TroveError, usage } from '../errors.js';
import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';
import { activate, chooseLink, readLinkTarget, resolveActivation, swapLink } from './activate.js';
import { type BisectState, clearBisectState, readBisectState, type Verdict, writeBisectState } from './bisect-state.js';
import { diffGenerations, type GenerationDiff } from './generation-diff.js';
import { readCommit } from './objects.js';
import { DEFAULT_PROFILE } from './profile.js';
import { resolveRev } from './resolve.js';

export interface BisectStep {
  state: BisectState;
  /** The candidate now at the link; null when the search is over. */
  current: ObjectId | null;
  /** Untested candidates left, and about how many steps that takes. */
  remaining: number;
  stepsLeft: number;
  /** Once found: the first bad commit and what it changed against its first parent. */
  firstBad: ObjectId | null;
  diff: GenerationDiff | null;
  /** When skips leave more than one suspect: all of them, oldest first. */
  suspects: ObjectId[];
}

export interface BisectStartOptions {
  /** Revision or generation number; default the tip of `ref`. */
  bad?: string;
  good: string;
  ref?: string;
  profile?: string;
  link?: string;
}

interface Search {
  next: number | null;
  /** Index of the oldest commit known bad. */
  hi: number;
  untested: number[];
}

/** Binary search over the marks: the next candidate, or none once the bad range is a single commit. */
function search(state: BisectState): Search {
  let hi = state.commits.length - 1;
  state.commits.forEach((c, i) => {
    if (state.marks[c] === 'bad' && i < hi) hi = i;
  });
  let lo = -1;
  state.commits.forEach((c, i) => {
    if (state.marks[c] === 'good' && i < hi && i > lo) lo = i;
  });
  const untested: number[] = [];
  for (let i = lo + 1; i < hi; i++) if (state.marks[state.commits[i]!] !== 'skip') untested.push(i);
  if (untested.length === 0) {
    const suspects: number[] = [];
    for (let i = lo + 1; i <= hi; i++) suspects.push(i);
    return { next: null, hi, untested: suspects };
  }
  const mid = (lo + hi) >> 1;
  let best = untested[0]!;
  for (const i of untested) if (Math.abs(i - mid) < Math.abs(best - mid)) best = i;
  return { next: best, hi, untested };
}

/** Applies the search: activates the next candidate (or the first bad one) and saves the state. */
async function advance(repo: Repo, state: BisectState): Promise<BisectStep> {
  const s = search(state);
  const step: BisectStep = { state, current: null, remaining: 0, stepsLeft: 0, firstBad: null, diff: null, suspects: [] };
  if (s.next !== null) {
    state.current = state.commits[s.next]!;
    step.current = state.current;
    step.remaining = s.untested.length;
    step.stepsLeft = Math.ceil(Math.log2(s.untested.length + 1));
    await activate(repo, state.current, { profile: state.profile, link: state.link, record: false });
    await writeBisectState(repo, state);
    return step;
  }
  state.current = null;
  if (s.untested.length === 1) {
    const bad = state.commits[s.hi]!;
    state.firstBad = bad;
    step.firstBad = bad;
    const parent = (await readCommit(repo.store, bad)).parents[0];
    if (parent) step.diff = await diffGenerations(repo.store, parent, bad);
    await activate(repo, bad, { profile: state.profile, link: state.link, record: false });
  } else {
    step.suspects = s.untested.map((i) => state.commits[i]!);
  }
  await writeBisectState(repo, state);
  return step;
}

/**
 * Starts bisecting the first-parent history from `bad` back to `good`:
 * records what the link shows now, then activates the first candidate.
 */
export async function bisectStart(repo: Repo, opts: BisectStartOptions): Promise<BisectStep> {
  if (await readBisectState(repo)) throw new TroveError('E_EXISTS', 'a bisect is already in progress (trove bisect reset ends it)');
  const profile = opts.profile ?? DEFAULT_PROFILE;
  let bad: ObjectId;
  if (opts.bad) bad = (await resolveActivation(repo, profile, opts.bad)).commit;
  else if (opts.ref) bad = await resolveRev(repo, opts.ref);
  else throw usage('bisect start needs --bad or --ref');
  const good = (await resolveActivation(repo, profile, opts.good)).commit;
  if (good === bad) throw usage('the good and the bad commit are the same');
  const commits: ObjectId[] = [];
  let id: ObjectId | undefined = bad;
  while (id !== good) {
    if (!id) throw usage(`${opts.good} is not on the first-parent history of ${opts.bad ?? opts.ref}`);
    commits.push(id);
    id = (await readCommit(repo.store, id)).parents[0];
  }
  commits.reverse();
  const link = await chooseLink(repo, profile, opts.link);
  const state: BisectState = {
    profile,
    link,
    ref: opts.ref ?? null,
    bad,
    good,
    commits,
    marks: { [bad]: 'bad' },
    current: null,
    firstBad: null,
    log: [],
    before: await readLinkTarget(link),
  };
  return advance(repo, state);
}

async function requireState(repo: Repo): Promise<BisectState> {
  const state = await readBisectState(repo);
  if (!state) throw usage('no bisect in progress (start one with: trove bisect start)');
  return state;
}

/** Marks the current candidate (or `rev`) and moves on to the next one. */
export async function bisectMark(repo: Repo, verdict: Verdict, rev?: string): Promise<BisectStep> {
  const state = await requireState(repo);
  const commit = rev ? (await resolveActivation(repo, state.profile, rev)).commit : state.current;
  if (!commit) throw usage(state.firstBad ? 'the bisect is over (trove bisect reset ends it)' : 'no candidate to mark');
  if (!state.commits.includes(commit)) throw usage(`${commit} is not between the good and the bad commit`);
  state.marks[commit] = verdict;
  state.log.push({ commit, verdict });
  return advance(repo, state);
}

/** Ends the session: the link points where it did before (or is removed if there was none). */
export async function bisectReset(repo: Repo): Promise<{ link: string; restored: string | null }> {
  const state = await requireState(repo);
  if (state.before === null) await rm(state.link, { force: true });
  else await swapLink(state.link, state.before);
  await clearBisectState(repo);
  return { link: state.link, restored: state.before };
}

/** The session in progress as a step (for `trove bisect status`-like output). */
export async function bisectCurrent(repo: Repo): Promise<BisectState> {
  return requireState(repo);
}
