import type { Command } from 'commander';
import type { TreeEntry } from '../../format/types.js';
import { readTree } from '../../repo/objects.js';
import { locate } from '../../repo/resolve.js';
import { print, printJson, withRepo } from '../context.js';
import { octal } from '../printers.js';

function line(e: TreeEntry, path: string): string {
  const t = e.kind === 'dir' ? 'd' : e.kind === 'symlink' ? 'l' : '-';
  const tail = e.kind === 'symlink' ? ` -> ${e.target}` : '';
  return `${t} ${octal(e.mode)} ${String(e.uid).padStart(5)} ${String(e.gid).padStart(5)} ${String(e.size).padStart(10)} ${path}${tail}`;
}

export function register(program: Command): void {
  program
    .command('ls')
    .description('list a directory of a commit')
    .argument('<rev[:path]>', 'ref, commit id or prefix, optionally with :path')
    .option('-R, --recursive', 'list subdirectories too')
    .option('--json', 'print entries as JSON')
    .action(async (spec: string, opts: { recursive?: boolean; json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const loc = await locate(repo, spec);
        const rows: { path: string; entry: TreeEntry }[] = [];
        const walk = async (treeId: string, prefix: string): Promise<void> => {
          for (const e of (await readTree(repo.store, treeId)).entries) {
            rows.push({ path: prefix + e.name, entry: e });
            if (opts.recursive && e.kind === 'dir') await walk(e.id!, `${prefix}${e.name}/`);
          }
        };
        if (loc.kind === 'root') await walk(loc.tree, '');
        else if (loc.entry.kind === 'dir') await walk(loc.entry.id!, '');
        else rows.push({ path: loc.entry.name, entry: loc.entry });
        if (opts.json) {
          printJson(rows.map((r) => ({ path: r.path, ...r.entry, xattrs: r.entry.xattrs.map((x) => x.name) })));
        } else for (const r of rows) print(line(r.entry, r.path));
      });
    });
}
