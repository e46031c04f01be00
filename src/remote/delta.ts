import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { lzma } from '../util/compression.js';
import { replaceAtomic } from '../util/fs-atomic.js';
import type { ObjectId } from '../util/hash.js';
import type { TreeEntry } from '../format/types.js';
import { readCommitSync, readTreeSync } from '../repo/objects.js';
import type { Repo } from '../repo/repo.js';
import { isPublicMode, type GetSyncStore } from '../store/types.js';
import { DELTAS_DIR, deltaName } from './layout.js';
import { type PackEntry, packStream } from './pack.js';
import { type OnProgress, progressOf } from '../util/progress.js';

/** Every object reachable from `commit` (its history and trees), added to `seen`. */
function markReachable(store: GetSyncStore, commit: ObjectId, seen: Set<ObjectId>): void {
  const commits = [commit];
  const trees: ObjectId[] = [];
  while (commits.length) {
    const id = commits.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const c = readCommitSync(store, id);
    commits.push(...c.parents);
    trees.push(c.tree);
  }
  while (trees.length) {
    const id = trees.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of readTreeSync(store, id).entries) {
      if (e.kind === 'dir') trees.push(e.id!);
      else if (e.kind === 'file') seen.add(e.id!);
    }
  }
}

/** The length of the longest common prefix of two names. */
function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * The entry of the reader's tree `older` that each entry of `entries`
 * should be patched against: the one of the same name, else, for a name
 * that is new here, one of the same kind whose name is gone and shares at
 * least half of the shorter name as a prefix, the longest such (a
 * directory or file named after a version: `corpus-amd64-1-1/` →
 * `corpus-amd64-2-2/`, `6.1.0-17-amd64/` → `6.1.0-18-amd64/`). Each gone
 * entry serves one new one. Only a hint: a patch against the wrong object
 * is merely larger, and the reader checks every result against its id.
 */
function namesakes(entries: TreeEntry[], older: TreeEntry[]): Map<string, TreeEntry> {
  const out = new Map(older.map((e) => [e.name, e]));
  const names = new Set(entries.map((e) => e.name));
  const gone = older.filter((e) => !names.has(e.name) && e.kind !== 'symlink');
  // Every new name against every gone one: not for a directory that was emptied and refilled.
  if (gone.length === 0 || gone.length * entries.length > 1_000_000) return out;
  for (const e of entries) {
    if (out.has(e.name) || e.kind === 'symlink') continue;
    let best: TreeEntry | undefined;
    let bestLength = 0;
    for (const g of gone) {
      const n = commonPrefix(g.name, e.name);
      if (g.kind === e.kind && n * 2 >= Math.min(g.name.length, e.name.length) && n > bestLength) {
        best = g;
        bestLength = n;
      }
    }
    if (best) {
      out.set(e.name, best);
      gone.splice(gone.indexOf(best), 1);
    }
  }
  return out;
}

/**
 * Objects reachable from `to` and not from `from` (null: from nothing), in
 * install order: every object after everything it references, so a reader
 * can install them as they arrive. Unchanged subtrees are skipped whole.
 */
export async function deltaEntries(store: GetSyncStore, from: ObjectId | null, to: ObjectId): Promise<PackEntry[]> {
  const have = new Set<ObjectId>();
  // Blocking reads throughout: a pack's walk reads thousands of small trees one after another.
  if (from) markReachable(store, from, have);
  const out: PackEntry[] = [];
  /**
   * Emits tree `id` and what it needs, each file and directory with its
   * namesake in `base` as a base for a patch. Bases are FROM's root tree and
   * entries of FROM's trees, so the reader has every one of them, and none
   * is an object of the pack.
   */
  const emitTree = (id: ObjectId, base: ObjectId | undefined): void => {
    if (have.has(id)) return;
    have.add(id);
    const entries = readTreeSync(store, id).entries;
    const beside = base === undefined ? undefined : namesakes(entries, readTreeSync(store, base).entries);
    for (const e of entries) {
      const b = beside?.get(e.name);
      const older = b !== undefined && b.kind === e.kind && b.id !== e.id ? b.id : undefined;
      if (e.kind === 'dir') emitTree(e.id!, older);
      else if (e.kind === 'file' && !have.has(e.id!)) {
        have.add(e.id!);
        out.push(older === undefined ? { id: e.id!, kind: 'blob' } : { id: e.id!, kind: 'blob', base: older });
      }
    }
    out.push(base === undefined ? { id, kind: 'tree' } : { id, kind: 'tree', base });
  };
  const fromTree = from ? readCommitSync(store, from).tree : undefined;
  // Commits parents first, without recursion (histories can be long).
  const stack: ObjectId[] = [to];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (have.has(top)) {
      stack.pop();
      continue;
    }
    const c = readCommitSync(store, top);
    const missing = c.parents.filter((p) => !have.has(p));
    if (missing.length) {
      stack.push(...missing);
      continue;
    }
    stack.pop();
    emitTree(c.tree, fromTree);
    have.add(top);
    out.push({ id: top, kind: 'commit' });
  }
  return out;
}

export interface DeltaResult {
  from: ObjectId | null;
  to: ObjectId;
  /** Path relative to the repository. */
  path: string;
  objects: number;
  /** Uncompressed object bytes. */
  bytes: number;
  /** Size of the pack file. */
  size: number;
  compression: PackCompression;
  /** True when the objects were more than `maxBytes`: no pack was written (`size` 0). */
  skipped?: true;
}

/** How a pack file is compressed: xz is smaller, gzip much faster to write and read. */
export type PackCompression = 'xz' | 'gzip';

/** Options of writing a delta; defaults as documented on each field. */
export interface DeltaOptions {
  /** Default: xz when the objects add up to 64 KiB..256 MiB (where its smaller output pays), else gzip. */
  compression?: PackCompression;
  /** Level 1-9 (default: 6). */
  level?: number;
  /** Progress: phase `packing`, objects and bytes read into the pack against their totals. */
  onProgress?: OnProgress;
  /** Write nothing when the objects add up to more than this; the result then has `skipped: true` and no file (default: no limit). */
  maxBytes?: number;
}

const XZ_MIN = 64 << 10;
const XZ_LIMIT = 256 << 20;

function xzCompressor(preset: number): Transform {
  return lzma().createCompressor({ preset, threads: 0 });
}

/** Writes `deltas/<from>-<to>` (list it with `trove summary`); readers tell xz from gzip by the first bytes. */
export async function writeDelta(repo: Repo, from: ObjectId | null, to: ObjectId, opts: DeltaOptions = {}): Promise<DeltaResult> {
  const entries = await deltaEntries(repo.store, from, to);
  let total = 0;
  // A pack that carries a private object is as private as it is (docs/security.md, "Private files").
  let mode = 0o644;
  for (const e of entries) {
    const st = statSync(repo.store.pathOf(e.id));
    total += st.size;
    if (!isPublicMode(st.mode)) mode = 0o600;
  }
  const compression = opts.compression ?? (total >= XZ_MIN && total <= XZ_LIMIT ? 'xz' : 'gzip');
  const level = opts.level ?? 6;
  const name = deltaName(from, to);
  if (opts.maxBytes !== undefined && total > opts.maxBytes) {
    return { from, to, path: `${DELTAS_DIR}/${name}`, objects: entries.length, bytes: total, size: 0, compression, skipped: true };
  }
  let size = 0;
  const progress = progressOf('packing', 'objects', entries.length, total);
  const onProgress = opts.onProgress;
  const packed = onProgress
    ? (n: number) => {
        progress.done++;
        progress.bytes += n;
        onProgress(progress);
      }
    : undefined;
  const sized = async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      size += (c as Buffer).length;
      yield c as Buffer;
    }
  };
  await replaceAtomic(join(repo.path, DELTAS_DIR, name), { tmpDir: repo.tmpDir, tag: 'delta' }, async (tmp) => {
    const compressor = compression === 'xz' ? xzCompressor(level) : createGzip({ level });
    await pipeline(Readable.from(packStream(repo.store, entries, packed)), compressor, sized, createWriteStream(tmp, { flags: 'wx', mode }));
  });
  return { from, to, path: `${DELTAS_DIR}/${name}`, objects: entries.length, bytes: total, size, compression };
}
