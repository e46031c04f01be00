import { join } from 'node:path';
import { corrupt, notFound } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { assertRefName, Refs } from '../refs/refs.js';
import type { Repo } from '../repo/repo.js';
import { assertLocalRepository, getRemote, isHttpUrl } from './config.js';
import { SUMMARY_PATH, SUMMARY_SIG_PATH } from './layout.js';
import { parsePublicKey, verifySignature } from './sign.js';
import { MAX_SUMMARY, parseSummary } from './summary.js';
import { openTransport, type TransportInit } from './transport.js';

/** One ref as the remote's summary and the remote's own ref files give it. */
export interface CheckedRef {
  ref: string;
  /** The commit the summary lists, or null when it does not list the ref. */
  summary: ObjectId | null;
  /** The commit of the server's `refs/heads/<ref>`, or null when it has (or serves) none. */
  server: ObjectId | null;
  stale: boolean;
}

export interface SummaryCheck {
  remote: string;
  url: string;
  /** `stale` when any checked ref differs between the summary and the server's refs. */
  state: 'current' | 'stale';
  /** When the summary was written (seconds since the epoch). */
  timestamp: number;
  refs: CheckedRef[];
}

/**
 * Whether the summary a remote serves is older than its refs. A local
 * directory remote is compared ref by ref with its `refs/heads` (the named
 * refs, else all of them and all the summary lists). An HTTP remote is asked
 * for `refs/heads/<ref>` of the named refs, else of each ref the summary
 * lists; a ref file it does not serve counts as stale only when the ref was
 * named (a server may publish no ref files at all). E_NOT_FOUND when the
 * remote has no summary; a signed remote's summary is verified first.
 */
export async function checkSummary(repo: Repo, opts: TransportInit & { remote: string; refs?: string[] }): Promise<SummaryCheck> {
  const remote = await getRemote(repo.path, opts.remote);
  const local = !isHttpUrl(remote.url);
  if (local) await assertLocalRepository(remote.url);
  const named = [...new Set(opts.refs ?? [])];
  for (const ref of named) assertRefName(ref);
  const transport = openTransport(remote.url, opts);
  try {
    const bytes = await transport.getBytes(SUMMARY_PATH, { optional: true, maxBytes: MAX_SUMMARY });
    if (!bytes) throw notFound(`remote ${opts.remote} (${remote.url}) has no summary to check`, { remote: opts.remote });
    if (remote.signKey !== undefined) {
      const sig = await transport.getBytes(SUMMARY_SIG_PATH, { optional: true, maxBytes: 1 << 20 });
      verifySignature(sig?.toString('utf8'), parsePublicKey(remote.signKey), bytes, `summary of remote ${opts.remote}`);
    }
    const summary = parseSummary(bytes);
    const server = new Map<string, ObjectId | null>();
    if (local) {
      for (const r of await new Refs(join(remote.url, 'refs'), join(remote.url, 'tmp')).list('heads')) server.set(r.name, r.id);
    } else {
      for (const ref of named.length ? named : Object.keys(summary.refs)) {
        const text = await transport.getBytes(`refs/heads/${ref}`, { optional: true, maxBytes: 4096 });
        const id = text?.toString('utf8').trim();
        if (id !== undefined && !isObjectId(id)) throw corrupt(`remote ${opts.remote}: refs/heads/${ref} holds no valid id`, { remote: opts.remote, ref });
        server.set(ref, id ?? null);
      }
    }
    const names = named.length ? named : [...new Set([...Object.keys(summary.refs), ...server.keys()])].sort();
    const refs = names.map((ref): CheckedRef => {
      const listed = summary.refs[ref] ?? null;
      const there = server.get(ref) ?? null;
      const counts = local || named.length > 0 || there !== null;
      return { ref, summary: listed, server: there, stale: counts && listed !== there };
    });
    return { remote: opts.remote, url: remote.url, state: refs.some((r) => r.stale) ? 'stale' : 'current', timestamp: summary.timestamp, refs };
  } finally {
    await transport.close();
  }
}
