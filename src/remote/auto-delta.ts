import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repo } from '../repo/repo.js';
import { isSystemError, isTroveError } from '../util/errors.js';
import { pathExists } from '../util/path-exists.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { writeDelta } from './delta.js';
import { io } from '../util/io.js';
import { DELTAS_DIR, deltaName, parseDeltaName } from './layout.js';
import type { Summary } from './summary.js';
import { isPackageRef } from '../system/packages/model.js';

/**
 * Delta packs a summary writes by itself (docs/remote.md, "Deltas written
 * by default"): when a tip a client follows has moved since the summary
 * before, a pack from each of its last few tips to the new one, so a client
 * that pulled any of them fetches one pack of what changed without the
 * server running `trove delta`. A tip is a head other than a package's
 * (`pkg/...`: clients install those, and a generation's pack carries what
 * they change) or the newest published generation of a profile.
 */

/** How many earlier tips of one name get a pack to its newest. */
export const AUTO_DELTA_DEPTH = 3;

const RECORD = 'deltas-auto.json';

/**
 * `<repo>/deltas-auto.json`: per tip name, its tip, the earlier tips
 * (newest first) it has packs from, and the packs this module wrote.
 */
type AutoRecord = Record<string, { to: ObjectId; from: ObjectId[]; packs: string[] }>;

function readRecord(repo: Repo): AutoRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(repo.path, RECORD), 'utf8'));
  } catch {
    return {};
  }
  const out: AutoRecord = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const e = v as { to?: unknown; from?: unknown; packs?: unknown };
    const ids = (xs: unknown): xs is string[] => Array.isArray(xs) && xs.every((f) => typeof f === 'string' && isObjectId(f));
    if (typeof e?.to !== 'string' || !isObjectId(e.to) || !ids(e.from)) continue;
    // Only names of packs to this tip: the record can never make a rm reach outside deltas/.
    const to = e.to;
    const from = e.from;
    const packs = Array.isArray(e.packs) ? e.packs.filter((n): n is string => from.some((f) => n === deltaName(f, to))) : [];
    out[name] = { to, from: from.slice(0, AUTO_DELTA_DEPTH), packs };
  }
  return out;
}

/** The tips summary `s` lists, by name: `refs/<head>` (not a package's) and `generations/<profile>` (its newest). */
function summaryTips(s: Summary): Map<string, ObjectId> {
  const tips = new Map<string, ObjectId>();
  for (const [name, id] of Object.entries(s.refs)) if (!isPackageRef(name)) tips.set(`refs/${name}`, id);
  for (const [p, gens] of Object.entries(s.generations ?? {})) {
    const newest = gens[gens.length - 1];
    if (newest) tips.set(`generations/${p}`, newest.commit);
  }
  return tips;
}

/** What writeAutoDeltas did: packs written and removed, and those it could not write or remove (the summary is written anyway). */
export interface AutoDeltas {
  written: { from: ObjectId; to: ObjectId }[];
  removed: string[];
  failed: { from: ObjectId; to: ObjectId; problem: string }[];
  /** Packs not written because their objects add up to more than AUTO_PACK_MAX_BYTES. */
  skipped: { from: ObjectId; to: ObjectId; bytes: number }[];
}

/**
 * The most object bytes a pack the summary writes by itself may hold. A tip
 * moved to unrelated content (a force-push, a rebuilt base) would otherwise
 * cost up to three packs of about the whole tree on every summary; such a
 * pull goes object by object, or through a pack written with `trove delta`.
 */
export const AUTO_PACK_MAX_BYTES = 256 << 20;

/** AUTO_PACK_MAX_BYTES, or TROVE_AUTO_PACK_MAX_BYTES when set (a whole number of bytes). */
function maxBytes(): number {
  const env = io().env.TROVE_AUTO_PACK_MAX_BYTES;
  const n = env === undefined ? NaN : Number(env);
  return Number.isSafeInteger(n) && n >= 0 ? n : AUTO_PACK_MAX_BYTES;
}

/** Whether `err` is an error of the file system or trove's (reported), not a fault in the code (thrown). */
function reportable(err: unknown): boolean {
  return isTroveError(err) || isSystemError(err);
}

/**
 * For each tip that moved from summary `old` to summary `fresh` (built
 * for the repository as it is now, its deltas not yet listed), a pack to the new tip from the old
 * one and from the earlier tips recorded for it (at most AUTO_DELTA_DEPTH),
 * each only when its FROM is stored. A pack already there is used as it is:
 * it is this module's (and then shared by every tip that needs it) only when
 * the record says so, else it was written by `trove delta` and is never
 * removed here. A pack that cannot be written (its FROM gone meanwhile, no
 * space) is reported, not thrown: the summary is what clients need most.
 *
 * What is no longer needed goes in `finish`, to be called once the new
 * summary is in place (so no summary that is served lists a removed pack):
 * the packs this module wrote to a tip that is no longer one, unless another
 * tip still uses them, and the record is rewritten.
 */
export async function writeAutoDeltas(
  repo: Repo,
  old: Summary,
  fresh: Summary,
): Promise<{ result: AutoDeltas; doomed: Set<string>; finish: () => Promise<void> }> {
  const result: AutoDeltas = { written: [], removed: [], failed: [], skipped: [] };
  const before = summaryTips(old);
  const now = summaryTips(fresh);
  const record = readRecord(repo);
  const ours = new Set(Object.values(record).flatMap((r) => r.packs));
  const next: AutoRecord = {};
  let changed = false;
  for (const [name, to] of now) {
    const was = before.get(name);
    const rec = record[name];
    if (was === undefined || was === to) {
      if (rec) next[name] = rec;
      continue;
    }
    changed = true;
    const earlier = [was, ...(rec?.to === was ? rec.from : [])].filter((f, i, all) => f !== to && all.indexOf(f) === i).slice(0, AUTO_DELTA_DEPTH);
    const from: ObjectId[] = [];
    const packs: string[] = [];
    for (const f of earlier) {
      if (!repo.store.hasSync(f)) continue;
      from.push(f);
      const pack = deltaName(f, to);
      if (await pathExists(join(repo.path, DELTAS_DIR, pack))) {
        if (ours.has(pack)) packs.push(pack);
        continue;
      }
      try {
        const w = await writeDelta(repo, f, to, { maxBytes: maxBytes() });
        if (w.skipped) {
          result.skipped.push({ from: f, to, bytes: w.bytes });
          continue;
        }
        result.written.push({ from: f, to });
        packs.push(pack);
        ours.add(pack);
      } catch (err) {
        if (!reportable(err)) throw err;
        result.failed.push({ from: f, to, problem: (err as Error).message });
      }
    }
    next[name] = { to, from, packs };
  }
  for (const name of Object.keys(record)) if (!next[name]) changed = true;
  // The packs to remove: this module's, that no tip uses any more (the summary leaves them out).
  const kept = new Set(Object.values(next).flatMap((n) => n.packs));
  const doomed = new Set(Object.values(record).flatMap((r) => r.packs.filter((p) => !kept.has(p))));
  const finish = async (): Promise<void> => {
    if (!changed) return;
    for (const pack of doomed) {
      try {
        await rm(join(repo.path, DELTAS_DIR, pack), { force: true });
        result.removed.push(pack);
      } catch (err) {
        if (!reportable(err)) throw err;
        const ends = parseDeltaName(pack);
        if (!ends?.from) continue;
        result.failed.push({ from: ends.from, to: ends.to, problem: `not removed: ${(err as Error).message}` });
        // Kept in the record under a name no tip has, so the next summary leaves it out and tries again.
        next[`removing/${pack}`] = { to: ends.to, from: [ends.from], packs: [pack] };
      }
    }
    await writeRecord(repo, next);
  };
  return { result, doomed, finish };
}

async function writeRecord(repo: Repo, rec: AutoRecord): Promise<void> {
  try {
    await writeFileAtomic(join(repo.path, RECORD), `${JSON.stringify(rec)}\n`, { tmpDir: repo.tmpDir, tag: 'file' });
  } catch (err) {
    // An old record only keeps packs longer: the next summary that can write it removes them.
    if (!reportable(err)) throw err;
  }
}

/**
 * Takes the pack `name` out of the record: `trove delta` wrote it, so the
 * summary never removes it, whichever tip it leads to.
 */
export async function disownAutoDelta(repo: Repo, name: string): Promise<void> {
  const record = readRecord(repo);
  let changed = false;
  for (const rec of Object.values(record)) {
    const i = rec.packs.indexOf(name);
    if (i < 0) continue;
    rec.packs.splice(i, 1);
    changed = true;
  }
  if (changed) await writeRecord(repo, record);
}
