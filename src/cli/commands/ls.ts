import type { Command } from 'commander';
import type { TreeEntry } from '../../format/types.js';
import { listPath } from '../../repo/browse.js';
import { inProfile } from '../../system/revisions.js';
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
    .option('--profile <p>', 'the profile whose generation numbers count (default: system)')
    .option('--json', 'print entries as JSON')
    .action(async (spec: string, opts: { recursive?: boolean; profile?: string; json?: boolean }, cmd: Command) => {
      const rows = await withRepo(cmd, (repo) => listPath(repo, spec, { recursive: opts.recursive, ...inProfile(repo, opts.profile) }));
      if (opts.json) {
        printJson(rows.map((r) => ({ path: r.path, ...r.entry, xattrs: r.entry.xattrs.map((x) => x.name) })));
      } else for (const r of rows) print(line(r.entry, r.path));
    });
}
