import type { Command } from 'commander';
import { type Change, commitChanges, diffStat } from '../../repo/diff.js';
import { readCommit } from '../../repo/objects.js';
import { patchOf } from '../../repo/patch.js';
import { defaultRevision, resolveRevision } from '../../system/revisions.js';
import { print, printJson, withRepo } from '../context.js';
import { bytes, changeLine, octal, shortId } from '../printers.js';

interface Opts {
  stat?: boolean;
  nameStatus?: boolean;
  patch?: boolean;
  profile?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('show')
    .description('show a commit: tree, parents, metadata, package or generation description, and what it changed against its first parent')
    .argument('[rev]', 'revision (default: the active generation, else the only ref)')
    .option('--stat', 'print counts and byte totals of the changes instead of their paths')
    .option('--name-status', 'print the changed paths only (A, D, M), without the totals line')
    .option('-p, --patch', 'print a unified content diff of the changes')
    .option('--profile <p>', 'the profile whose generation numbers and active commit count (default: system)')
    .option('--json', 'print the commit and its changes as JSON')
    .action(async (rev: string | undefined, opts: Opts, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const id = rev !== undefined ? await resolveRevision(repo, rev, opts.profile) : (await defaultRevision(repo, opts.profile)).id;
        const c = await readCommit(repo.store, id);
        const diff = await commitChanges(repo.store, c);
        const stat = diff && diffStat(diff.changes);
        if (opts.json) {
          return printJson({
            commit: id,
            ...c,
            root: { ...c.root, xattrs: c.root.xattrs.map((x) => x.name) },
            changes: diff?.changes ?? null,
            stat,
          });
        }
        print(`commit ${id}`);
        print(`tree   ${c.tree}`);
        for (const p of c.parents) print(`parent ${p}`);
        print(`root   mode ${octal(c.root.mode)} uid ${c.root.uid} gid ${c.root.gid}`);
        print(`date   ${new Date(c.timestamp * 1000).toISOString()}`);
        for (const m of c.metadata) print(`meta   ${m.key}=${m.value}`);
        if (c.package) {
          const p = c.package;
          print(`package ${p.name} ${p.arch} ${p.version} revision ${p.revision}`);
          if (p.preDepends.length) print(`pre-depends ${p.preDepends.join(', ')}`);
          if (p.depends.length) print(`depends ${p.depends.join(', ')}`);
          if (p.provides.length) print(`provides ${p.provides.join(', ')}`);
          if (p.multiArch) print(`multi-arch ${p.multiArch}`);
        }
        if (c.generation) {
          const g = c.generation;
          print(`generation of profile ${g.profile}: ${g.packages.length} packages, ${g.conflicts.length} conflicts`);
          for (const p of g.packages) print(`  ${p.name}/${p.arch} ${p.version} r${p.revision} ${shortId(p.commit)}${p.dependency ? ' (dependency)' : ''}`);
          for (const x of g.conflicts) print(`  conflict ${x.path}: ${x.winner} wins over ${x.losers.join(', ')}`);
        }
        print('');
        print(`    ${c.subject || '(no subject)'}`);
        if (c.body) for (const l of c.body.split('\n')) print(`    ${l}`);
        print('');
        if (!diff) {
          print(`(the parent ${c.parents[0]} is not in this repository: no changes to show)`);
          return;
        }
        const against = diff.parent === null ? 'an empty tree (a root commit)' : `the first parent ${shortId(diff.parent)}`;
        if (opts.patch) {
          const read = (which: 'old' | 'new', ch: Change) => repo.store.get((which === 'old' ? ch.oldId : ch.newId)!);
          for (const ch of diff.changes) for (const l of await patchOf(ch, read)) print(l);
          return;
        }
        if (!opts.stat) for (const ch of diff.changes) print(changeLine(ch));
        if (!opts.nameStatus) {
          print(`${stat!.added} added, ${stat!.removed} removed, ${stat!.modified} modified against ${against}; +${bytes(stat!.bytesAdded)} -${bytes(stat!.bytesRemoved)}`);
        }
      });
    });
}
