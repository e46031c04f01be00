import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ObjectId } from '../hash/index.js';
import { readCommit, readTree } from '../ops/objects.js';
import type { Repo } from '../repo.js';
import type { DiskStore } from '../store/disk.js';
import { tempName } from '../store/disk.js';
import { DELTAS_DIR, deltaName } from './layout.js';
import { type PackEntry, packStream } from './pack.js';

/** Every object reachable from `commit` (its history and trees), added to `seen`. */
async function markReachable(store: DiskStore, commit: ObjectId, seen: Set<ObjectId>): Promise<void> {
  const commits = [commit];
  const trees: ObjectId[] = [];
  while (commits.length) {
    const id = commits.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const c = await readCommit(store, id);
    commits.push(...c.parents);
    trees.push(c.tree);
  }
  while (trees.length) {
    const id = trees.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of (await readTree(store, id)).entries) {
      if (e.kind === 'dir') trees.push(e.id!);
      else if (e.kind === 'file') seen.add(e.id!);
    }
  }
}

/**
 * Objects reachable from `to` and not from `from` (null: from nothing), in
 * install order: every object after everything it references, so a reader
 * can install them as they arrive. Unchanged subtrees are skipped whole.
 */
export async function deltaEntries(store: DiskStore, from: ObjectId | null, to: ObjectId): Promise<PackEntry[]> {
  const have = new Set<ObjectId>();
  if (from) await markReachable(store, from, have);
  const out: PackEntry[] = [];
  const emitTree = async (id: ObjectId): Promise<void> => {
    if (have.has(id)) return;
    have.add(id);
    for (const e of (await readTree(store, id)).entries) {
      if (e.kind === 'dir') await emitTree(e.id!);
      else if (e.kind === 'file' && !have.has(e.id!)) {
        have.add(e.id!);
        out.push({ id: e.id!, kind: 'blob' });
      }
    }
    out.push({ id, kind: 'tree' });
  };
  // Commits parents first, without recursion (histories can be long).
  const stack: ObjectId[] = [to];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (have.has(top)) {
      stack.pop();
      continue;
    }
    const c = await readCommit(store, top);
    const missing = c.parents.filter((p) => !have.has(p));
    if (missing.length) {
      stack.push(...missing);
      continue;
    }
    stack.pop();
    await emitTree(c.tree);
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
}

/** Writes `deltas/<from>-<to>` (gzip level `level`, default 6); list it with `trove summary`. */
export async function writeDelta(repo: Repo, from: ObjectId | null, to: ObjectId, opts: { level?: number } = {}): Promise<DeltaResult> {
  const entries = await deltaEntries(repo.store, from, to);
  const dir = join(repo.path, DELTAS_DIR);
  await mkdir(dir, { recursive: true });
  await mkdir(repo.store.tmpDir, { recursive: true });
  const tmp = tempName(repo.store.tmpDir, 'delta');
  let bytes = 0;
  let size = 0;
  const counted = async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      bytes += c.length;
      yield c;
    }
  };
  const sized = async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      size += (c as Buffer).length;
      yield c as Buffer;
    }
  };
  try {
    await pipeline(Readable.from(counted(packStream(repo.store, entries))), createGzip({ level: opts.level ?? 6 }), sized, createWriteStream(tmp, { flags: 'wx' }));
    const name = deltaName(from, to);
    await rename(tmp, join(dir, name));
    return { from, to, path: `${DELTAS_DIR}/${name}`, objects: entries.length, bytes, size };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
