import { usage } from '../util/errors.js';
import type { Repo } from '../repo/repo.js';
import type { EnsureCommit } from '../system/bisect/bisect.js';
import type { RemoteBisect } from '../system/bisect/state.js';
import { assertLocalRepository, getRemote, isHttpUrl } from './config.js';
import { fetchSummary, pull } from './pull.js';
import { openTransport, type TransportInit } from './transport.js';
import { chooseRemote, publishedOf } from './upgrade.js';

/**
 * The published generations of `profile` on remote `remote` from `good` to
 * `bad` (default: the newest), from its verified summary: what `bisect
 * start --remote` bisects. Nothing but the summary is fetched.
 */
export async function remoteBisectRange(
  repo: Repo,
  opts: { remote?: string; profile: string; good: string; bad?: string } & TransportInit,
): Promise<RemoteBisect> {
  const name = await chooseRemote(repo, opts.remote);
  const number = (flag: string, v: string) => {
    if (!/^[1-9][0-9]*$/.test(v)) throw usage(`${flag} must be a generation number of remote ${name} with --remote (got ${v})`);
    return Number(v);
  };
  const good = number('--good', opts.good);
  const config = await getRemote(repo.path, name);
  if (!isHttpUrl(config.url)) await assertLocalRepository(config.url);
  const transport = openTransport(config.url, opts);
  let gens;
  try {
    gens = publishedOf((await fetchSummary(transport, name, config, [], false, { repo, record: false })).summary, name, opts.profile);
  } finally {
    await transport.close();
  }
  const bad = opts.bad === undefined ? gens.at(-1)!.number : number('--bad', opts.bad);
  const have = (n: number) => {
    if (!gens.some((g) => g.number === n)) {
      throw usage(`remote ${name} publishes no generation ${n} of profile ${opts.profile} (it publishes ${gens[0]!.number} to ${gens.at(-1)!.number})`);
    }
  };
  have(good);
  have(bad);
  if (bad <= good) throw usage(`the bad generation (${bad}) must come after the good one (${good})`);
  return {
    name,
    profile: opts.profile,
    generations: gens.filter((g) => g.number >= good && g.number <= bad).map((g) => ({ number: g.number, commit: g.commit })),
  };
}

/** The EnsureCommit of remote bisects: pulls the commit by id from the session's remote (only what is missing). */
export function ensureFromRemote(repo: Repo, init: TransportInit = {}): EnsureCommit {
  return async (state, commit) => {
    const r = await pull(repo, { ...init, remote: state.remote!.name, select: () => [commit], lazy: state.lazy });
    return { objects: r.fetched.objects, bytes: r.fetched.bytes };
  };
}
