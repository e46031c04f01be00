import type { Command } from 'commander';
import { assertRefFree, listRefsChecked, resolveRev } from '../../repo/resolve.js';
import { io, print, printJson, withRepo } from '../context.js';

export function register(program: Command): void {
  const refs = program.command('refs').description('list, set or delete refs');
  refs
    .command('list', { isDefault: true })
    .description('list refs and the commits they point at (a ref file that holds no id is reported on stderr)')
    .option('--remotes', 'list remote-tracking refs too')
    .option('--json', 'print refs as JSON')
    .action(async (opts: { remotes?: boolean; json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const rows: { name: string; id: string }[] = [];
        for (const [ns, prefix] of opts.remotes ? [['heads', ''], ['remotes', 'remotes/']] : [['heads', '']]) {
          const { refs: ok, bad } = await listRefsChecked(repo, ns);
          for (const b of bad) io().stderr.write(`trove: warning: skipping ${prefix}${b.name}: ${b.error}\n`);
          rows.push(...ok.map((r) => ({ name: prefix + r.name, id: r.id })));
        }
        if (opts.json) return printJson(rows);
        for (const r of rows) print(`${r.id} ${r.name}`);
      });
    });
  refs
    .command('set')
    .description('point a ref at a commit (creating the ref if needed)')
    .argument('<name>', 'ref name, e.g. main or pkg/bash/amd64')
    .argument('<rev>', 'ref, commit id or prefix')
    .action(async (name: string, rev: string, _opts: unknown, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        await assertRefFree(repo, name);
        const id = await resolveRev(repo, rev);
        await repo.refs.write(name, id);
        print(`${name} -> ${id}`);
      });
    });
  refs
    .command('delete')
    .description('delete a ref (its objects stay until gc)')
    .argument('<name>', 'ref name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withRepo(cmd, (repo) => repo.refs.delete(name));
    });
}
