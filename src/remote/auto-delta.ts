import { readFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repo } from '../repo/repo.js';
import { isErrno, isTroveError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { listGenerations } from '../system/profiles.js';
import { publishedProfiles } from '../system/generations/published.js';
import { writeDelta } from './delta.js';
import { DELTAS_DIR, deltaName } from './layout.js';
import type { Summary } from './summary.js';

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

/** The tips a summary of `repo` lists now, by name: `refs/<head>` and `generations/<profile>`. */
export async function currentTips(repo: Repo): Promise<Map<string, ObjectId>> {
  const tips = new Map<string, ObjectId>();
  for (const r of await repo.refs.list('heads')) if (!r.name.startsWith('pkg/')) tips.set(`refs/${r.name}`, r.id);
  for (const p of await publishedProfiles(repo)) {
    const gens = await listGenerations(repo, p);
    const newest = gens[gens.length - 1];
    if (newest) tips.set(`generations/${p}`, newest.commit);
  }
  return tips;
}

/** The same tips as an older summary listed them. */
function summaryTips(s: Summary): Map<string, ObjectId> {
  const tips = new Map<string, ObjectId>();
  for (const [name, id] of Object.entries(s.refs)) if (!name.startsWith('pkg/')) tips.set(`refs/${name}`, id);
  for (const [p, gens] of Object.entries(s.generations ?? {})) {
    const newest = gens[gens.length - 1];
    if (newest) tips.set(`generations/${p}`, newest.commit);
  }
  return tips;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** What writeAutoDeltas did: packs written and removed, and those it could not write (the summary is written anyway). */
export interface AutoDeltas {
  written: { from: ObjectId; to: ObjectId }[];
  removed: string[];
  failed: { from: ObjectId; to: ObjectId; problem: string }[];
}

/**
 * For each tip that moved since `old`, a pack to the new tip from the old
 * one and from the earlier tips recorded for it (at most AUTO_DELTA_DEPTH;
 * a pack already there is kept as it is), each written only when its FROM
 * is stored; then the packs this function wrote earlier to a tip that is no
 * longer one are removed. Packs written by `trove delta` are never removed.
 * A pack that cannot be written (its FROM gone meanwhile, no space) is
 * reported, not thrown: the summary is what clients need most.
 */
export async function writeAutoDeltas(repo: Repo, old: Summary): Promise<AutoDeltas> {
  const out: AutoDeltas = { written: [], removed: [], failed: [] };
  const before = summaryTips(old);
  const now = await currentTips(repo);
  const record = readRecord(repo);
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
      // A pack already there (written by `trove delta`) is left as it is, and never removed here.
      if (await exists(join(repo.path, DELTAS_DIR, deltaName(f, to)))) continue;
      try {
        await writeDelta(repo, f, to);
        out.written.push({ from: f, to });
        packs.push(deltaName(f, to));
      } catch (err) {
        if (!isTroveError(err) && (err as NodeJS.ErrnoException).code === undefined) throw err;
        out.failed.push({ from: f, to, problem: (err as Error).message });
      }
    }
    next[name] = { to, from, packs };
  }
  // Packs written here before whose tip has moved on: no client that follows a tip asks for them.
  for (const [name, rec] of Object.entries(record)) {
    if (next[name]?.to === rec.to) continue;
    changed = true;
    const kept = new Set(Object.values(next).flatMap((n) => n.packs));
    for (const pack of rec.packs) {
      if (kept.has(pack)) continue;
      await rm(join(repo.path, DELTAS_DIR, pack), { force: true });
      out.removed.push(pack);
    }
  }
  if (changed) await writeFileAtomic(join(repo.path, RECORD), `${JSON.stringify(next)}\n`, { tmpDir: repo.tmpDir, tag: 'file' });
  return out;
}
