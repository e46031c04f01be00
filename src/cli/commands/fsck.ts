import type { Command } from 'commander';
import { systemRoots } from '../../system/roots.js';
import { corrupt } from '../../util/errors.js';
import { fsck, type FsckProblem } from '../../repo/fsck.js';
import { repair, type RepairReport } from '../../remote/repair.js';
import { detail, note, print, printJson, say, withRepo } from '../context.js';
import { withMeter } from '../progress.js';
import type { RootSource } from '../../repo/roots.js';
import { bytes } from '../printers.js';

function problemLine(p: FsckProblem): string {
  if (p.id === undefined) return `${p.problem}: ${p.where}: ${p.detail}`;
  return `${p.problem}: ${p.kind ?? 'object'} ${p.id}${p.where ? ` at ${p.where}` : ''}: ${p.detail}`;
}

function printRepair(r: RepairReport): void {
  for (const x of r.repaired) print(`repaired: ${x.kind ?? 'object'} ${x.id} (${x.was}) from ${x.remote} (${x.url})`);
  for (const q of r.quarantined) print(`quarantined: ${q.kind ?? 'object'} ${q.id} -> ${q.file} (record: ${q.record})`);
  for (const v of r.removedVariants) print(`removed: checkout variant ${v} (its bytes were wrong; the next checkout makes it again)`);
  for (const id of r.concealed) print(`made private: blob ${id} (no tree shows it to other users)`);
  for (const id of r.published) print(`published: blob ${id} (a tree shows it to other users)`);
  for (const p of r.remaining) {
    print(problemLine(p));
    for (const t of p.tried) print(`  ${t.source}: ${t.detail}`);
    for (const n of p.neededBy) print(`  needed by ${n.root}: commit ${n.commit}${n.path === undefined ? '' : ` path ${n.path}`}`);
    if (p.moreNeeders > 0) print(`  needed by ${p.moreNeeders} more`);
  }
  const f = r.fsck;
  say(`${f.objects} objects (${bytes(f.bytes)}); ${f.commits} commits, ${f.trees} trees, ${f.blobs} blobs reachable`);
  const remotes = r.remotes.length ? r.remotes.join(', ') : 'none configured';
  say(`found ${r.found.length} problem(s); repaired ${r.repaired.length}, quarantined ${r.quarantined.length}, ${r.removedVariants.length ? `removed ${r.removedVariants.length} variant(s), ` : ''}${r.remaining.length} remain (remotes: ${remotes})`);
}

export function register(program: Command): void {
  program
    .command('fsck')
    .description('re-hash every object and check every reference from every ref; report refs that hold no id')
    .option('--repair', 'fetch corrupt or missing objects again from the configured remotes; quarantine corrupt files none has')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nWithout --repair nothing is changed. With --repair (under the shared repository lock,\n' +
        'so gc waits), each corrupt or missing object is fetched from the remotes in name\n' +
        'order and installed only once it hashes to its id; a remote whose copy does not\n' +
        'verify is not trusted. A corrupt file no remote has is moved to <repo>/quarantine/\n' +
        'with a record (<id>.json) of the commits and paths that need it; adding the same\n' +
        'content again (pkg add, commit), or a pull or fsck --repair from a remote that has\n' +
        'it, heals it. The report lists what was repaired (and from where), quarantined, and\n' +
        'what is still missing with the refs, generations, commits and paths that need it.\n' +
        'An object file other users can read that holds private content (readable-private:\n' +
        'no tree shows it to them) is made private, a public one left private is published.\n' +
        '\nExit status 0 when the repository is sound (after a repair), 5 when anything is\n' +
        'missing or corrupt.',
    )
    .action(async (opts: { json?: boolean; repair?: boolean }, cmd: Command) => {
      // Under -v, each root checked.
      const roots: RootSource = async (repo) => {
        const list = await systemRoots(repo);
        for (const r of list) detail(`fsck: root ${r.name}: commit ${r.commit}`);
        return list;
      };
      if (opts.repair) {
        const r = await withRepo(cmd, (repo) => withMeter(cmd, 'fsck', (m) => repair(repo, { roots, onWait: () => note('waiting for gc to finish...'), onProgress: m.onProgress })));
        if (opts.json) printJson(r);
        else printRepair(r);
        if (!r.ok) throw corrupt(`fsck --repair: ${r.remaining.length} problem(s) remain`);
        if (!opts.json) say('ok');
        return;
      }
      const report = await withRepo(cmd, (repo) => withMeter(cmd, 'fsck', (m) => fsck(repo, { roots, onProgress: m.onProgress })));
      detail(`fsck: ${report.objects} objects (${bytes(report.bytes)}) re-hashed; ${report.commits} commits, ${report.trees} trees, ${report.blobs} blobs reachable; ${report.problems.length} problem(s)`);
      if (opts.json) printJson(report);
      else {
        for (const p of report.problems) print(problemLine(p));
        say(`${report.objects} objects (${bytes(report.bytes)}); ${report.commits} commits, ${report.trees} trees, ${report.blobs} blobs reachable`);
      }
      if (!report.ok) throw corrupt(`fsck found ${report.problems.length} problem(s)`);
      if (!opts.json) say('ok');
    });
}
