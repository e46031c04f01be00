import type { Command } from 'commander';
import { readCommit } from '../../repo/objects.js';
import { resolveRev } from '../../repo/resolve.js';
import { print, printJson, withRepo } from '../context.js';
import { octal } from '../printers.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('show a commit: tree, parents, metadata, package or generation description')
    .argument('<rev>', 'ref, commit id or prefix')
    .option('--json', 'print the commit as JSON')
    .action(async (rev: string, opts: { json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const id = await resolveRev(repo, rev);
        const c = await readCommit(repo.store, id);
        if (opts.json) return printJson({ id, ...c, root: { ...c.root, xattrs: c.root.xattrs.map((x) => x.name) } });
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
          print(`generation of profile ${c.generation.profile}: ${c.generation.packages.length} packages, ${c.generation.conflicts.length} conflicts`);
        }
        print('');
        print(`    ${c.subject || '(no subject)'}`);
        if (c.body) for (const l of c.body.split('\n')) print(`    ${l}`);
      });
    });
}
