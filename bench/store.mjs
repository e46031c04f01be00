// Scenario group "store": commit, commit of a small change, hard-link and copy
// checkout, and fsck; trove against OSTree (bare repository), same data, same
// filesystem, alternating which system goes first in each run.
import { join } from 'node:path';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { BenchError, human, log, rmrf, run, syncDisk, timeCmd, timeSeq, treeStats } from './lib.mjs';
import { modify, pickFiles, restore } from './modify.mjs';
import { newObjects, ostree, trove } from './tools.mjs';

export const name = 'store';
export const title = 'Object store: commit, checkout, fsck';
export const requires = [['ostree', 'ostree'], ['tar', 'tar'], ['du', 'coreutils']];

const OPS = [
  { id: 'commit-new', label: 'commit into a new repository (init + commit)', target: { maxRatio: 0.6, maxRssMB: 200 } },
  { id: 'commit-small', label: 'commit of a 1 % change on top', target: { maxRatio: 0.1, maxRssMB: 200, sameContent: true } },
  { id: 'checkout-hardlink', label: 'checkout, hard links', target: { maxRatio: 1.0 } },
  { id: 'checkout-hardlink-2', label: 'checkout, hard links, second time', target: {} },
  { id: 'checkout-copy', label: 'checkout, copies (--copy / -C)', target: {} },
  { id: 'fsck', label: 'fsck', target: {} },
];

const TOOLS = [trove, ostree];

function duBytes(path) {
  return Number(run('du', ['-s', '--block-size=1', path]).stdout.split('\t')[0]);
}

function sameCounts(a, b) {
  return ['files', 'dirs', 'symlinks', 'bytes'].every((k) => a[k] === b[k]);
}

export async function runGroup(ctx) {
  const { cache, work, runs } = ctx;
  const dir = join(cache, 'work');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  // Repositories and checkouts of earlier steps are moved aside, not deleted, until the group ends:
  // on ext4 without a journal, files created within 30 s of a large delete cost several times more
  // (docs/benchmarks.md), which would time the order of the steps rather than the tools.
  let retired = 0;
  const retire = (path) => {
    if (!existsSync(path)) return;
    mkdirSync(join(dir, 'retired'), { recursive: true });
    renameSync(path, join(dir, 'retired', String(retired++)));
  };
  const picked = pickFiles(work.dir);
  log(`store: ${picked.length} files (every 100th regular file) will be modified for the small change`);
  log('store: warming the page cache with one untimed read of the tree');
  run('sh', ['-c', 'tar -cf - -C "$1" . | wc -c', 'sh', work.dir]);

  const samples = Object.fromEntries(OPS.map((o) => [o.id, { trove: [], ostree: [] }]));
  const errors = Object.fromEntries(OPS.map((o) => [o.id, {}]));
  const facts = { trove: {}, ostree: {} };
  const warnings = [];

  const measure = (op, tool, fn, fatal) => {
    try {
      samples[op][tool.name].push(fn());
      return true;
    } catch (e) {
      if (!(e instanceof BenchError)) throw e;
      log(`${tool.name} ${op} FAILED:\n${e.message}`);
      errors[op][tool.name] ??= e.message;
      if (fatal) fatal.add(tool.name);
      return false;
    }
  };

  try {
    for (let r = 0; r < runs; r++) {
      const order = r % 2 ? [ostree, trove] : [trove, ostree];
      const repo = (t) => join(dir, `${t.name}-repo`);
      const broken = new Set();
      const alive = () => order.filter((t) => !broken.has(t.name));
      log(`store: run ${r + 1} of ${runs} (${order.map((t) => t.name).join(' first, then ')})`);

      for (const t of order) {
        retire(repo(t));
        syncDisk();
        const ok = measure('commit-new', t, () => timeSeq([t.init(repo(t)), t.commit(repo(t), work.dir)]), broken);
        if (ok && r === 0) {
          facts[t.name].objects = t.objects(repo(t)).size;
          facts[t.name].repoBytes = duBytes(repo(t));
        }
      }

      work.markDirty();
      const undo = modify(work.dir, picked);
      const expected = r === 0 ? treeStats(work.dir) : undefined;
      try {
        for (const t of alive()) {
          const before = t.objects(repo(t));
          syncDisk();
          const ok = measure('commit-small', t, () => timeCmd(...t.commit(repo(t), work.dir)), broken);
          if (!ok) continue;
          const n = newObjects(t, before, t.objects(repo(t)), undo.contentIds);
          const prev = facts[t.name].newObjects;
          if (prev && (prev.total !== n.total || prev.content !== n.content)) {
            warnings.push(`${t.name}: new objects differ between runs (${prev.total}/${prev.content} vs ${n.total}/${n.content})`);
          }
          facts[t.name].newObjects ??= n;
          if (t === trove && r === 0) facts.trove.commitReport = parseTroveReport(samples['commit-small'].trove.at(-1));
        }
      } finally {
        restore(undo);
        work.markClean();
      }

      for (const op of ['checkout-hardlink', 'checkout-hardlink-2', 'checkout-copy']) {
        const copy = op === 'checkout-copy';
        for (const t of alive()) {
          const dest = join(dir, `${t.name}-checkout`);
          retire(dest);
          syncDisk();
          if (measure(op, t, () => timeCmd(...t.checkout(repo(t), dest, copy))) && expected) {
            const got = treeStats(dest);
            if (!sameCounts(got, expected)) {
              warnings.push(`${t.name} ${op}: checkout has ${fmtStats(got)}, the committed tree has ${fmtStats(expected)}`);
            }
          }
          if (t === trove && op === 'checkout-hardlink' && r === 0) facts.trove.variants = variants(repo(t));
          retire(dest);
        }
      }

      for (const t of alive()) {
        syncDisk();
        measure('fsck', t, () => timeCmd(...t.fsck(repo(t))));
      }
      for (const t of TOOLS) retire(repo(t));
    }
  } finally {
    rmrf(dir);
  }

  return { name, title, ops: OPS, samples, errors, notes: notes(facts, picked.length), warnings };
}

/** trove keeps per-(mode, owner) copies of objects, and per-(target, owner) symlinks, for hard-link checkouts under variants/. */
function variants(repo) {
  const dir = join(repo, 'variants');
  if (!existsSync(dir)) return { files: 0, symlinks: 0, bytes: 0 };
  const st = treeStats(dir);
  return { files: st.files, symlinks: st.symlinks, bytes: duBytes(dir) };
}

function fmtStats(s) {
  return `${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks, ${s.bytes} bytes`;
}

function parseTroveReport(sample) {
  try {
    return JSON.parse(sample.stdout).report;
  } catch {
    return undefined;
  }
}

/** Also exposes, per system, the new content objects of the small change (for the target check). */
function notes(facts, modified) {
  const lines = [];
  const t = facts.trove;
  const o = facts.ostree;
  const fmtNew = (n, other) => (n ? `${n.total} (${n.content} content + ${n.other} ${other})` : 'n/a');
  lines.push(`Small change: ${modified} files modified (every 100th regular file by sorted path, each given distinct new content).`);
  lines.push(`New objects written by the small-change commit: trove ${fmtNew(t.newObjects, 'trees/commit')}, ` +
    `ostree ${fmtNew(o.newObjects, 'dirtree/dirmeta/commit')}.`);
  if (o.newObjects) lines.push(`ostree new objects by kind: ${JSON.stringify(o.newObjects.byKind)}.`);
  if (t.commitReport) {
    const rep = t.commitReport;
    lines.push(`trove small-change commit: ${rep.cached ?? '?'} of ${rep.files ?? '?'} files taken from the stat cache, ` +
      `${human(rep.bytesRead ?? 0)} read.`);
  }
  if (t.variants) {
    lines.push(`trove's first hard-link checkout made ${t.variants.files} variant copies of objects whose stored mode or owner ` +
      `differs from the entry and ${t.variants.symlinks} shared symlinks (${human(t.variants.bytes)} in all); later checkouts link them.`);
  }
  const size = (f) => (f.objects === undefined ? 'n/a' : `${f.objects} objects, ${human(f.repoBytes)} on disk`);
  lines.push(`Repository after the first commit: trove ${size(t)}; ostree ${size(o)} ` +
    '(ostree stores symlinks as content objects; trove keeps them in trees).');
  return {
    lines,
    sameContent: t.newObjects && o.newObjects ? t.newObjects.content === o.newObjects.content : undefined,
  };
}
