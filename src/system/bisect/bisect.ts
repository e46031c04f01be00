import { rm } from 'node:fs/promises';
import { exists, notFound, usage } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { activate, chooseLink, isGenerationNumber, noSuchGeneration, readLinkTarget, resolveActivation, swapLink } from '../activation/activate.js';
import { type BisectState, clearBisectState, readBisectState, type RemoteBisect, statePath, type Verdict, writeBisectState } from './state.js';
import { diffGenerations, type GenerationDiff } from '../generations/diff.js';
import { readCommitSync } from '../../repo/objects.js';
import { DEFAULT_PROFILE, listGenerations } from '../profiles.js';
import { resolveRev } from '../../repo/resolve.js';

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
  /** Remote bisects: the remote generation number of `current` (or of `firstBad` once found). */
  generation: number | null;
  /** Remote bisects: what this step fetched to bring its commits here (zero when they were here). */
  fetched: { objects: number; bytes: number } | null;
}

/**
 * Brings `commit` (with everything under it) into the repository for a
 * bisect of a remote's published generations, and says what that fetched.
 * The system layer knows nothing of remotes: the caller (the CLI, with the
 * remote layer) supplies this.
 */
export type EnsureCommit = (state: BisectState, commit: ObjectId) => Promise<{ objects: number; bytes: number }>;

/** Options of the steps after start. */
export interface BisectStepOptions {
  /** Required when the session bisects a remote's generations (see EnsureCommit). */
  ensure?: EnsureCommit;
}

export interface BisectStartOptions {
  /**
   * Revision or generation number; default the tip of `ref`, else the newest
   * generation. When good and bad are both generation numbers, the profile's
   * generations between them are bisected, else first-parent history.
   */
  bad?: string;
  good: string;
  ref?: string;
  profile?: string;
  link?: string;
  /**
   * Bisect these published generations of a remote instead of local history
   * (good and bad are then ignored); needs `ensure`.
   */
  remote?: RemoteBisect;
  /** See BisectState.lazy. */
  lazy?: boolean;
  ensure?: EnsureCommit;
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

/** The remote generation number of `commit` in a remote bisect, else null. */
function remoteNumber(state: BisectState, commit: ObjectId): number | null {
  return state.remote?.generations.find((g) => g.commit === commit)?.number ?? null;
}

/**
 * In a remote bisect, brings `commits` here (only what is missing) through
 * `ensure`, adds what that fetched to the step and records it per commit.
 */
async function ensureHere(repo: Repo, state: BisectState, step: BisectStep, commits: ObjectId[], opts: BisectStepOptions): Promise<void> {
  if (!state.remote) return;
  step.fetched ??= { objects: 0, bytes: 0 };
  for (const commit of commits) {
    if (await repo.store.has(commit)) continue;
    if (!opts.ensure) throw usage(`this bisect tests generations of remote ${state.remote.name}, and nothing here can fetch them`);
    const got = await opts.ensure(state, commit);
    step.fetched.objects += got.objects;
    step.fetched.bytes += got.bytes;
    state.fetched = { ...state.fetched, [commit]: got };
  }
}

/** Applies the search: activates the next candidate (or the first bad one) and saves the state. */
async function advance(repo: Repo, state: BisectState, opts: BisectStepOptions = {}): Promise<BisectStep> {
  const s = search(state);
  const step: BisectStep = { state, current: null, remaining: 0, stepsLeft: 0, firstBad: null, diff: null, suspects: [], generation: null, fetched: null };
  if (s.next !== null) {
    state.current = state.commits[s.next]!;
    step.current = state.current;
    step.generation = remoteNumber(state, state.current);
    step.remaining = s.untested.length;
    step.stepsLeft = Math.ceil(Math.log2(s.untested.length + 1));
    await ensureHere(repo, state, step, [state.current], opts);
    await activate(repo, state.current, { profile: state.profile, link: state.link, record: false, lazy: state.lazy });
    await writeBisectState(repo, state);
    return step;
  }
  state.current = null;
  if (s.untested.length === 1) {
    const bad = state.commits[s.hi]!;
    state.firstBad = bad;
    step.firstBad = bad;
    step.generation = remoteNumber(state, bad);
    // The commit before it in the bisected history: its first parent, or the previous generation.
    const before = s.hi > 0 ? state.commits[s.hi - 1]! : state.good;
    await ensureHere(repo, state, step, [before, bad], opts);
    step.diff = await diffGenerations(repo.store, before, bad);
    await activate(repo, bad, { profile: state.profile, link: state.link, record: false, lazy: state.lazy });
  } else {
    step.suspects = s.untested.map((i) => state.commits[i]!);
  }
  await writeBisectState(repo, state);
  return step;
}

interface Range {
  bad: ObjectId;
  good: ObjectId;
  commits: ObjectId[];
}

/** First-parent history from `bad` back to (not including) `good`, oldest first. */
async function firstParentRange(repo: Repo, bad: ObjectId | undefined, good: ObjectId): Promise<Range> {
  if (!bad) throw usage('bisect start needs --bad, --ref, or generation numbers');
  if (good === bad) throw usage('the good and the bad commit are the same');
  const commits: ObjectId[] = [];
  let id: ObjectId | undefined = bad;
  while (id !== good) {
    if (!id) throw usage(`${good} is not on the first-parent history of ${bad}`);
    commits.push(id);
    // Blocking: a history of a thousand commits is a thousand reads one after another.
    id = readCommitSync(repo.store, id).parents[0];
  }
  return { bad, good, commits: commits.reverse() };
}

/** The profile's generations after `good` up to `bad` (default the newest). */
async function generationRange(repo: Repo, profile: string, good: number, badNumber?: number): Promise<Range> {
  const gens = await listGenerations(repo, profile);
  if (gens.length === 0) throw notFound(`profile ${profile} has no generations to bisect`, { profile });
  const find = async (n: number) => {
    const g = gens.find((x) => x.number === n);
    if (!g) throw await noSuchGeneration(repo, profile, String(n));
    return g.commit;
  };
  const goodCommit = await find(good);
  const last = badNumber ?? gens.at(-1)!.number;
  const bad = await find(last);
  if (last <= good) {
    throw usage(
      badNumber === undefined
        ? `generation ${good} is the newest of profile ${profile}: there is nothing after it to bisect`
        : `the bad generation (${last}) must come after the good one (${good})`,
    );
  }
  const commits = gens.filter((g) => g.number > good && g.number <= last).map((g) => g.commit);
  return { bad, good: goodCommit, commits };
}

/** E_USAGE unless `bad` is on the first-parent history of `ref`'s tip: that history is what `--ref` bisects. */
async function assertOnRef(repo: Repo, ref: string, bad: ObjectId, spec: string): Promise<void> {
  let id: ObjectId | undefined = await resolveRev(repo, ref);
  while (id) {
    if (id === bad) return;
    // Blocking: a history of a thousand commits is a thousand reads one after another.
    id = readCommitSync(repo.store, id).parents[0];
  }
  throw usage(`--bad ${spec} (${bad.slice(0, 12)}) is not on the first-parent history of ${ref}`);
}

/** The bad commit of a first-parent bisect: `--bad` (checked against `--ref`), else `--ref`'s tip. */
async function badOf(repo: Repo, opts: BisectStartOptions, bySpec: (spec: string) => Promise<ObjectId>): Promise<ObjectId | undefined> {
  if (opts.bad) {
    const bad = await bySpec(opts.bad);
    if (opts.ref) await assertOnRef(repo, opts.ref, bad, opts.bad);
    return bad;
  }
  return opts.ref ? resolveRev(repo, opts.ref) : undefined;
}

/**
 * Starts bisecting the history from `good` to `bad`: records what the link
 * shows now, then activates the first candidate.
 */
export async function bisectStart(repo: Repo, opts: BisectStartOptions): Promise<BisectStep> {
  if (await readBisectState(repo)) throw exists('a bisect is already in progress (trove bisect reset ends it)', { path: statePath(repo) });
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const bySpec = (spec: string) => resolveActivation(repo, profile, spec).then((r) => r.commit);
  const generations = opts.remote !== undefined || (!opts.ref && isGenerationNumber(opts.good) && (opts.bad === undefined || isGenerationNumber(opts.bad)));
  const { bad, good, commits } = opts.remote
    ? remoteRange(opts.remote)
    : generations
      ? await generationRange(repo, profile, Number(opts.good), opts.bad === undefined ? undefined : Number(opts.bad))
      : await firstParentRange(repo, await badOf(repo, opts, bySpec), await bySpec(opts.good));
  const link = await chooseLink(repo, profile, opts.link);
  const state: BisectState = {
    profile,
    link,
    ref: opts.ref ?? null,
    history: generations ? 'generations' : 'first-parent',
    bad,
    good,
    commits,
    marks: { [bad]: 'bad' },
    current: null,
    firstBad: null,
    log: [],
    before: await readLinkTarget(link),
  };
  if (opts.lazy) state.lazy = true;
  if (opts.remote) {
    state.remote = opts.remote;
    state.fetched = {};
  }
  return advance(repo, state, { ensure: opts.ensure });
}

/** Good, bad and the candidates of a remote bisect (at least good, one candidate or bad, and bad). */
function remoteRange(remote: RemoteBisect): Range {
  const gens = remote.generations;
  if (gens.length < 2) throw usage(`a bisect of remote ${remote.name} needs a good and a later bad generation`);
  return { good: gens[0]!.commit, bad: gens.at(-1)!.commit, commits: gens.slice(1).map((g) => g.commit) };
}

async function requireState(repo: Repo): Promise<BisectState> {
  const state = await readBisectState(repo);
  if (!state) throw usage('no bisect in progress (start one with: trove bisect start)');
  return state;
}

/** Marks the current candidate (or `rev`) and moves on to the next one. */
export async function bisectMark(repo: Repo, verdict: Verdict, rev?: string, opts: BisectStepOptions = {}): Promise<BisectStep> {
  const state = await requireState(repo);
  const commit = rev ? await markTarget(repo, state, rev) : state.current;
  if (!commit) throw usage(state.firstBad ? 'the bisect is over (trove bisect reset ends it)' : 'no candidate to mark');
  if (!state.commits.includes(commit)) throw usage(`${commit} is not between the good and the bad commit`);
  state.marks[commit] = verdict;
  state.log.push({ commit, verdict });
  return advance(repo, state, opts);
}

/** The commit `rev` names: in a remote bisect a number is the remote's generation number. */
async function markTarget(repo: Repo, state: BisectState, rev: string): Promise<ObjectId> {
  if (state.remote && isGenerationNumber(rev)) {
    const g = state.remote.generations.find((x) => x.number === Number(rev));
    if (!g) throw usage(`generation ${rev} of remote ${state.remote.name} is not between the good and the bad one`);
    return g.commit;
  }
  return (await resolveActivation(repo, state.profile, rev)).commit;
}

/**
 * Ends the session: the link points where it did before (or is removed if
 * there was none). While the session lasts, switch, rollback, install and
 * remove refuse to activate at its link, so that is still what the profile's
 * active record says.
 */
export async function bisectReset(repo: Repo): Promise<{ link: string; restored: string | null }> {
  const state = await requireState(repo);
  if (state.before === null) await rm(state.link, { force: true });
  else await swapLink(state.link, state.before);
  await clearBisectState(repo);
  return { link: state.link, restored: state.before };
}
