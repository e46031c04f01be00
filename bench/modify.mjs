// Deterministic ~1 % modification of a tree, and its exact restoration.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walk } from './lib.mjs';

/** Every `step`-th regular file (0, step, 2*step, ...) of the tree, by bytewise-sorted path. */
export function pickFiles(root, step = 100) {
  const files = [];
  walk(root, (p, st) => {
    if (st.isFile()) files.push(p);
  });
  files.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
  return files.filter((_p, i) => i % step === 0);
}

/**
 * Rewrites each picked file in place (same inode) with its old content plus a
 * line naming it, so every new content is distinct. Returns an undo record and
 * the SHA-256 ids of the new contents.
 */
export function modify(root, paths) {
  const saved = [];
  const contentIds = new Set();
  let addedBytes = 0;
  for (const p of paths) {
    const file = join(root, p);
    const st = statSync(file);
    const old = readFileSync(file);
    saved.push({ file, old, mode: st.mode & 0o7777, atime: st.atime, mtime: st.mtime });
    const extra = Buffer.from(`\ntrove-bench: modified ${p}\n`);
    const data = Buffer.concat([old, extra]);
    writeFileSync(file, data);
    chmodSync(file, st.mode & 0o7777);
    addedBytes += extra.length;
    contentIds.add(createHash('sha256').update(data).digest('hex'));
  }
  return { saved, contentIds, addedBytes };
}

/** Puts the old contents, modes and times back (in reverse, so hard links end up right). */
export function restore(undo) {
  for (const s of [...undo.saved].reverse()) {
    writeFileSync(s.file, s.old);
    chmodSync(s.file, s.mode);
    utimesSync(s.file, s.atime, s.mtime);
  }
}
