/*
 * Crash points, for the crash-consistency test (test/crash.test.ts).
 *
 * `crashPoint(name)` is called at the moments of an operation where a crash
 * matters. When the environment variable `TROVE_CRASH_AT` is `name`, the
 * process kills itself with SIGKILL the first time it gets there; with
 * `name#k`, the k-th time (for points reached once per object, per ref, per
 * checkout). Otherwise the call costs one comparison: the variable is read
 * once, when this module loads.
 *
 * Names are `<op>:<step>`. `<op>` is a command (`commit`, `pkg-add`,
 * `gen-build`, `switch`, `gc`, `pull`) for points in that command's own code,
 * or the shared mechanism (`txn`, `refs`, `atomic`) for points in code several
 * commands run; `ops` in CRASH_POINTS says which commands reach each one.
 */

/** One crash point: its name, the commands that reach it, and whether it is reached once per item. */
export interface CrashPointInfo {
  name: string;
  ops: readonly CrashOp[];
  /** Reached once per object, ref or file: `name#k` picks the k-th time. */
  repeated: boolean;
  what: string;
}

export type CrashOp = 'commit' | 'pkg-add' | 'gen-build' | 'switch' | 'gc' | 'pull';

const writers: CrashOp[] = ['commit', 'pkg-add', 'gen-build'];

/** Every crash point the code calls (test/crash.test.ts enumerates them). */
export const CRASH_POINTS: readonly CrashPointInfo[] = [
  { name: 'txn:staged', ops: writers, repeated: false, what: 'every new object staged in tmp/txn-*, none renamed into objects/ yet' },
  { name: 'txn:install', ops: writers, repeated: true, what: 'after the k-th staged object is renamed into objects/' },
  { name: 'txn:installed', ops: writers, repeated: false, what: 'every object renamed into objects/, the staging directory still there, no ref moved' },
  { name: 'refs:write', ops: ['commit', 'pkg-add', 'pull'], repeated: true, what: 'after the k-th ref of a ref transaction is written' },
  { name: 'commit:before-cache-flush', ops: ['commit'], repeated: false, what: 'ref moved, stat cache not yet flushed to the index' },
  { name: 'gen-build:temp-written', ops: ['gen-build'], repeated: false, what: 'generation file written in tmp/, number not yet claimed by link(2)' },
  { name: 'gen-build:claimed', ops: ['gen-build'], repeated: false, what: 'generation number claimed' },
  { name: 'switch:checkout-staged', ops: ['switch'], repeated: false, what: 'checkout made in tmp/, not yet renamed into checkouts/' },
  { name: 'switch:checkout-made', ops: ['switch'], repeated: false, what: 'checkout in checkouts/, record not written, link not swapped' },
  { name: 'atomic:filled', ops: ['switch', 'gc'], repeated: true, what: 'the k-th atomic replacement has its temp file (or temp symlink) made, not renamed' },
  { name: 'switch:recorded', ops: ['switch'], repeated: false, what: 'active record written (one file), link not yet swapped' },
  { name: 'switch:link-swapped', ops: ['switch'], repeated: false, what: 'record written and link swapped' },
  { name: 'gc:checkout-moved', ops: ['gc'], repeated: true, what: 'the k-th unkept checkout renamed into tmp/, not yet deleted' },
  { name: 'gc:checkout-removed', ops: ['gc'], repeated: true, what: 'after the k-th unkept checkout is removed' },
  { name: 'gc:variants-swept', ops: ['gc'], repeated: false, what: 'checkouts and variants swept, no object deleted, epoch not bumped' },
  { name: 'gc:epoch-bumped', ops: ['gc'], repeated: false, what: 'gc epoch bumped, no object deleted' },
  { name: 'gc:delete', ops: ['gc'], repeated: true, what: 'after the k-th garbage object is deleted' },
  { name: 'gc:wave', ops: ['gc'], repeated: true, what: 'after the k-th wave of deletions (commits first, then trees, then blobs)' },
  { name: 'gc:counted', ops: ['gc'], repeated: false, what: 'the kept objects counted in gc-count, the added log not yet emptied' },
  { name: 'pull:summary', ops: ['pull'], repeated: false, what: 'summary fetched, nothing stored' },
  { name: 'pull:delta-mark', ops: ['pull'], repeated: false, what: 'resume mark of a delta pack recorded, pack not fetched' },
  { name: 'pull:install', ops: ['pull'], repeated: true, what: 'after the k-th fetched object is installed in objects/' },
  { name: 'pull:delta-applied', ops: ['pull'], repeated: false, what: 'a delta pack applied (and saved, when mirroring)' },
  { name: 'pull:objects-done', ops: ['pull'], repeated: false, what: 'every object stored, no ref moved' },
  { name: 'pull:refs-moved', ops: ['pull'], repeated: false, what: 'refs moved, resume marks not cleared' },
  { name: 'pull:done', ops: ['pull'], repeated: false, what: 'resume marks cleared, the pull about to return' },
];

function parse(spec: string | undefined): { name: string; k: number } | undefined {
  if (!spec) return undefined;
  const m = /^(.*)#([1-9][0-9]*)$/.exec(spec);
  return m ? { name: m[1]!, k: Number(m[2]) } : { name: spec, k: 1 };
}

const target = parse(process.env.TROVE_CRASH_AT);
let reached = 0;

/** Kills this process with SIGKILL when `TROVE_CRASH_AT` names this point (and this is its k-th time). */
export function crashPoint(name: string): void {
  if (target === undefined || target.name !== name) return;
  if (++reached < target.k) return;
  process.kill(process.pid, 'SIGKILL');
}
