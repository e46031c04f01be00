import type { Command } from 'commander';
import { assertRefFree, listRefsChecked, namedRef } from '../../repo/resolve.js';
import { resolveRevision } from '../../system/revisions.js';
import { io, print, printJson, say, withRepo } from '../context.js';

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
    .description('point a ref at a commit (creating the ref if needed); remotes/REMOTE/REF or refs/remotes/REMOTE/REF for a remote-tracking ref')
    .argument('<name>', 'ref name, e.g. main, pkg/bash/amd64, remotes/origin/main')
    .argument('<rev>', 'ref, commit id or prefix')
    .option('--json', 'print the ref and its commit as JSON')
    .action(async (spelled: string, rev: string, opts: { json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        // Spelled as revisions read it: `remotes/origin/main` is origin's main, never a head of that name.
        const { ns, name } = namedRef(spelled);
        await assertRefFree(repo, name, ns);
        const id = await resolveRevision(repo, rev);
        await repo.refs.write(name, id, ns);
        const shown = ns === 'remotes' ? `remotes/${name}` : name;
        if (opts.json) return printJson({ ref: shown, commit: id });
        say(`${shown} -> ${id}`);
      });
    });
  refs
    .command('delete')
    .description('delete a ref (its objects stay until gc); remotes/REMOTE/REF or refs/remotes/REMOTE/REF for a remote-tracking ref')
    .argument('<name>', 'ref name, e.g. main, remotes/origin/main')
    .option('--json', 'print the ref deleted as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const deleted = await withRepo(cmd, async (repo) => {
        const { ns, name: ref } = namedRef(name);
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
