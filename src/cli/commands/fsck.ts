import type { Command } from 'commander';
import { systemRoots } from '../../system/roots.js';
import { corrupt, usage } from '../../util/errors.js';
import { fsck, type FsckProblem } from '../../repo/fsck.js';
import { repair, type RepairReport } from '../../remote/repair.js';
import { detail, note, print, printJson, say, withRepo } from '../context.js';
import { withMeter } from '../progress.js';
import type { RootSource } from '../../repo/roots.js';
import { bytes, files } from '../printers.js';

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
    .option('--since', 'check only what changed since the last clean fsck: objects whose files changed, trees not walked then')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nA clean fsck records when it started and the trees it walked (<repo>/fsck-clean.json;\n' +
        'any problem found deletes the record). With --since, object files not changed since\n' +
        '(by their ctime and mtime) are not re-hashed and trees walked then are not walked again,\n' +
        'so the check costs a stat per object plus what is new; without a record it checks\n' +
        'everything. It trusts what did not change: a full fsck also finds bytes that rotted\n' +
        'without their file changing, and objects deleted from under a tree checked before.\n' +
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
        '\nFiles of partial commits (install or upgrade --lazy) that have not arrived yet are\n' +
        'reported apart, as not yet fetched: no problem, and --repair leaves them to the view\n' +
        'and to trove fetch.\n' +
        '\nExit status 0 when the repository is sound (after a repair), 5 when anything is\n' +
        'missing or corrupt.',
    )
    .action(async (opts: { json?: boolean; repair?: boolean; since?: boolean }, cmd: Command) => {
      if (opts.since && opts.repair) throw usage('--since and --repair cannot be combined: a repair checks everything');
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
      const report = await withRepo(cmd, (repo) => withMeter(cmd, 'fsck', (m) => fsck(repo, { roots, onProgress: m.onProgress, since: opts.since ?? false })));
      if (opts.since && report.since === null && !opts.json) note('fsck --since: no clean fsck is recorded; checking everything');
      detail(`fsck: ${report.objects} objects (${bytes(report.bytes)}) re-hashed; ${report.commits} commits, ${report.trees} trees, ${report.blobs} blobs reachable; ${report.problems.length} problem(s)`);
      if (opts.json) printJson(report);
      else {
        for (const p of report.problems) print(problemLine(p));
        say(`${report.objects} objects (${bytes(report.bytes)}); ${report.commits} commits, ${report.trees} trees, ${report.blobs} blobs reachable`);
        const nf = report.notFetched;
        if (nf.objects > 0) say(`not yet fetched: ${files(nf.objects)} (${bytes(nf.bytes)}) of ${nf.commits.length} partial commit${nf.commits.length === 1 ? '' : 's'} (the view fetches them on read; trove fetch brings the rest)`);
        if (report.since !== null && report.unchangedSince) {
          say(`unchanged since the clean fsck of ${new Date(report.since * 1000).toISOString()}: ${report.unchangedSince.objects} objects, ${report.unchangedSince.trees} trees (not checked again)`);
        }
      }
      if (!report.ok) throw corrupt(`fsck found ${report.problems.length} problem(s)`);
      if (!opts.json) say('ok');
    });
}
