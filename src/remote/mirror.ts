import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Repo } from '../repo/repo.js';
import { fetchPack } from './fetch-pack.js';
import type { DiskSpace } from './disk-space.js';
import { checkHash } from './install.js';
import { deltaName, deltaPath, indexPath, PACKAGES_DIR, SUMMARY_PATH, SUMMARY_SIG_PATH, treesPackPath } from './layout.js';
import { parseIndex } from './package-index.js';
import type { ObjectId } from '../util/hash.js';
import { downloadTreesPack } from './trees-pack.js';
import { limiter } from '../util/limiter.js';
import type { PackKind } from './pack.js';
import { type DeltaInfo, pruneBehind, readLocalSummary, type Summary, summaryTreesPacks } from './summary.js';
import type { Transport } from './transport.js';

/** The upstream's summary as it came off the wire. */
export interface FetchedSummary {
  summary: Summary;
  /** The summary file's exact bytes (absent when the upstream has none). */
  bytes?: Buffer;
  /** Its `summary.sig`, if the upstream has one (verified when the remote has a key). */
  sig?: Buffer;
}

export interface KeptSummary {
  /** True when the upstream's summary (and summary.sig) now is this repository's. */
  summary: boolean;
  /** Delta packs fetched for it by this pull. */
  deltas: string[];
}

/**
 * For `pull --mirror`: makes the upstream's summary, summary.sig and every
 * delta pack it lists this repository's own, byte for byte, so the mirror
 * serves what the upstream signed and clients can keep their key. Packs are
 * fetched unless already here with the announced size (one kept earlier,
 * verified then) and verified like any pack; the summary is written last,
 * and only when every pack is in place and every ref it lists was pulled.
 */
export async function keepUpstreamSummary(
  repo: Repo,
  transport: Transport,
  fetched: FetchedSummary,
  opts: {
    /** Refs this pull brought in. */
    pulled: ReadonlySet<string>;
    /** Packs this pull already applied and kept. */
    alreadySaved: ReadonlySet<string>;
    /** The remote has a key: its summary was verified, and every pack must have the SHA-256 it gives. */
    signed: boolean;
    /** Free space of the repository. */
    space?: DiskSpace;
    /** Requests in flight at once when copying trees packs. */
    jobs: number;
    onNotice?: (m: string) => void;
    /** Called before each pack is fetched, and for each of its objects. */
    onPack?: (d: DeltaInfo) => void;
    onObject?: (kind: PackKind, size: number) => void;
  },
): Promise<KeptSummary> {
  const kept: KeptSummary = { summary: false, deltas: [] };
  if (!fetched.bytes) return kept;
  const missing = Object.keys(fetched.summary.refs).filter((r) => !opts.pulled.has(r));
  if (missing.length) {
    opts.onNotice?.(`the upstream summary is not kept: refs ${missing.join(', ')} were not pulled (run trove summary to serve this mirror)`);
    return kept;
  }
  for (const d of fetched.summary.deltas) {
    const name = deltaName(d.from, d.to);
    const path = join(repo.path, deltaPath(d.from, d.to));
    if (opts.alreadySaved.has(name) || (await sizeOf(path)) === d.size) continue;
    opts.onPack?.(d);
    try {
      await fetchPack({ store: repo.store, transport, delta: d, signed: opts.signed, space: opts.space, saveAs: path, onObject: opts.onObject });
      kept.deltas.push(name);
    } catch (err) {
      opts.onNotice?.(`the upstream summary is not kept: its delta ${name} failed (${(err as Error).message})`);
      return kept;
    }
  }
  const pk = fetched.summary.packages;
  if (pk) {
    // The package index the summary names, verified by its id, before the summary that names it.
    const where = transport.describe(indexPath(pk.index));
    const bytes = await transport.getBytes(indexPath(pk.index), { optional: true, maxBytes: pk.size, check: (b) => checkHash(pk.index, b, where) });
    if (!bytes) {
      opts.onNotice?.(`the upstream summary is not kept: its package index ${pk.index} is not served`);
      return kept;
    }
    await mkdir(join(repo.path, PACKAGES_DIR), { recursive: true });
    await writeFileAtomic(join(repo.path, indexPath(pk.index)), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
    await keepTreesPacks(repo, transport, parseIndex(bytes, where).packages, opts.jobs, opts.onNotice);
  }
  // Those the summary gives itself: its published generations' and its ref tips'.
  const packs = [...summaryTreesPacks(fetched.summary)].map(([commit, treesPack]) => ({ commit, treesPack }));
  await keepTreesPacks(repo, transport, packs, opts.jobs, opts.onNotice);
  // In the order trove summary writes them.
  const old = await readLocalSummary(repo).catch(() => undefined);
  if (fetched.sig) await writeFileAtomic(join(repo.path, SUMMARY_SIG_PATH), fetched.sig, { tmpDir: repo.tmpDir, tag: 'file' });
  else await rm(join(repo.path, SUMMARY_SIG_PATH), { force: true });
  await writeFileAtomic(join(repo.path, SUMMARY_PATH), fetched.bytes, { tmpDir: repo.tmpDir, tag: 'file' });
  kept.summary = true;
  // Then, as trove summary does, the index files and trees packs neither this summary nor the one before gives.
  await pruneBehind(repo, fetched.summary, old);
  return kept;
}

/**
 * Copies the trees packs `entries` (index entries, published generations, ref tips)
 * name that this repository lacks, each checked as a client checks it
 * (trees-pack.ts). One that cannot be had is left out with a notice: a
 * client of the mirror then fetches those trees object by object.
 */
async function keepTreesPacks(repo: Repo, transport: Transport, entries: { commit: ObjectId; treesPack?: number }[], jobs: number, onNotice?: (message: string) => void): Promise<void> {
  if (entries.some((e) => e.treesPack !== undefined)) await mkdir(join(repo.path, PACKAGES_DIR), { recursive: true });
  // `jobs` at a time: a first mirror of a server copies one pack per package.
  const run = limiter(jobs);
  await Promise.all(
    entries.map((e) =>
      run(async () => {
        const path = join(repo.path, treesPackPath(e.commit));
        if (e.treesPack === undefined || (await sizeOf(path)) === e.treesPack) return;
        try {
          const { wire } = await downloadTreesPack(transport, e.commit, e.treesPack);
          await writeFileAtomic(path, wire, { tmpDir: repo.tmpDir, tag: 'file' });
        } catch (err) {
          onNotice?.(`${(err as Error).message}; the mirror's clients fetch those trees one by one`);
        }
      }),
    ),
  );
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
