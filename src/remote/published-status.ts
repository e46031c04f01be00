import type { Repo } from '../repo/repo.js';
import { type GenerationOrigin, readOrigin } from '../system/generations/published.js';
import { readActive } from '../system/profiles.js';
import type { PublishedGeneration } from './summary.js';
import type { TransportInit } from './transport.js';

// `trove status` runs this on every call: the summary's modules (and the
// object codec they bring) are loaded only for an upgraded generation, and
// the network modules (pull, transport and its HTTP client) only for
// --remote-check.

/** What `status` says about an upgraded generation: where it came from and whether the remote publishes a newer one. */
export interface PublishedStatus {
  origin: GenerationOrigin;
  /** The newest generation of the remote profile in the cached summary, and when that summary was fetched; null when none is cached. */
  newest: PublishedGeneration | null;
  checked: number | null;
  /** True when the cached summary lists a generation newer than the active one. */
  newer: boolean;
}

/**
 * The origin of the active generation of `profile` and, from the summary
 * cached by the last upgrade (no network), whether a newer one is published;
 * with `check`, the summary is fetched (and verified) first. Null when the
 * active generation was not upgraded from a remote.
 */
export async function publishedStatus(repo: Repo, profile: string, opts: { check?: boolean } & TransportInit = {}): Promise<PublishedStatus | null> {
  const active = await readActive(repo, profile);
  if (!active || active.generation === null) return null;
  const origin = await readOrigin(repo, profile, active.generation, active.commit);
  if (!origin) return null;
  if (opts.check) {
    const [{ getRemote }, { openTransport }, { fetchSummary }] = await Promise.all([
      import('./config.js'),
      import('./transport.js'),
      import('./pull.js'),
    ]);
    const config = await getRemote(repo.path, origin.remote);
    const transport = openTransport(config.url, opts);
    try {
      await fetchSummary(transport, origin.remote, config, [], false, { repo });
    } finally {
      await transport.close();
    }
  }
  const { readCachedSummary } = await import('./accepted.js');
  const cached = await readCachedSummary(repo, origin.remote);
  const newest = cached?.summary.generations?.[origin.profile]?.at(-1) ?? null;
  return { origin, newest, checked: cached?.fetched ?? null, newer: newest !== null && newest.number > origin.generation };
}
