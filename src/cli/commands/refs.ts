import type { Command } from 'commander';
import { assertRefFree, listRefsChecked } from '../../repo/resolve.js';
import { resolveRevision } from '../../system/revisions.js';
import { io, print, printJson, say, withRepo } from '../context.js';

/** The namespace and name a ref is spelled with: `refs/heads/X` and `X` are heads, `refs/remotes/X` and `remotes/X` remote-tracking. */
function refSpelling(name: string): { ns: 'heads' | 'remotes'; ref: string } {
  for (const [prefix, ns] of [['refs/heads/', 'heads'], ['refs/remotes/', 'remotes'], ['remotes/', 'remotes']] as const) {
    if (name.startsWith(prefix)) return { ns, ref: name.slice(prefix.length) };
  }
  return { ns: 'heads', ref: name };
}

export function register(program: Command): void {
  const refs = program.command('refs').description('list, set or delete refs');
  refs
    .command('list', { isDefault: true })
    .description('list refs and the commits they point at (a ref file that holds no id is reported on stderr)')
    .option('--remotes', 'list remote-tracking refs too')
    .option('--json', 'print refs as JSON')
    .action(async (opts: { remotes?: boolean; json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const rows: { ref: string; commit: string }[] = [];
        for (const [ns, prefix] of opts.remotes ? [['heads', ''], ['remotes', 'remotes/']] : [['heads', '']]) {
          const { refs: ok, bad } = await listRefsChecked(repo, ns);
          for (const b of bad) io().stderr.write(`trove: warning: skipping ${prefix}${b.name}: ${b.error}\n`);
          rows.push(...ok.map((r) => ({ ref: prefix + r.name, commit: r.id })));
        }
        if (opts.json) return printJson(rows);
        for (const r of rows) print(`${r.commit} ${r.ref}`);
      });
    });
  refs
    .command('set')
    .description('point a ref at a commit (creating the ref if needed)')
    .argument('<name>', 'ref name, e.g. main or pkg/bash/amd64')
    .argument('<rev>', 'ref, commit id or prefix')
    .option('--json', 'print the ref and its commit as JSON')
    .action(async (name: string, rev: string, opts: { json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        await assertRefFree(repo, name);
        const id = await resolveRevision(repo, rev);
        await repo.refs.write(name, id);
        if (opts.json) return printJson({ ref: name, commit: id });
        say(`${name} -> ${id}`);
      });
    });
  refs
    .command('delete')
    .description('delete a ref (its objects stay until gc); remotes/REMOTE/REF or refs/remotes/REMOTE/REF for a remote-tracking ref')
    .argument('<name>', 'ref name, e.g. main, remotes/origin/main')
    .option('--json', 'print the ref deleted as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const deleted = await withRepo(cmd, async (repo) => {
        const { ns, ref } = refSpelling(name);
        // A local ref may itself be named remotes/...: it is deleted when no remote-tracking ref has the name.
        if (ns === 'remotes' && !name.startsWith('refs/') && (await repo.refs.read(ref, 'remotes')) === undefined && (await repo.refs.read(name)) !== undefined) {
          await repo.refs.delete(name);
          return name;
        }
        await repo.refs.delete(ref, ns);
        return ns === 'remotes' ? `remotes/${ref}` : ref;
      });
      if (opts.json) printJson({ ref: deleted });
    });
}
