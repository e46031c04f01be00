import type { Command } from 'commander';
import { diffStat, diffTrees } from '../../repo/diff.js';
import { readCommit } from '../../repo/objects.js';
import { resolveRev } from '../../repo/resolve.js';
import { print, printJson, withRepo } from '../context.js';
import { bytes, changeLine } from '../printers.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('list paths added (A), removed (D) and modified (M) between two commits')
    .argument('<a>', 'old revision')
    .argument('<b>', 'new revision')
    .option('--stat', 'print only counts and byte totals')
    .option('--json', 'print the result as JSON')
    .action(async (a: string, b: string, opts: { stat?: boolean; json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const ca = await readCommit(repo.store, await resolveRev(repo, a));
        const cb = await readCommit(repo.store, await resolveRev(repo, b));
        const changes = await diffTrees(repo.store, ca.tree, cb.tree);
        const stat = diffStat(changes);
        if (opts.json) return printJson(opts.stat ? stat : { changes, stat });
        if (!opts.stat) for (const c of changes) print(changeLine(c));
        print(
          `${stat.added} added, ${stat.removed} removed, ${stat.modified} modified; +${bytes(stat.bytesAdded)} -${bytes(stat.bytesRemoved)}`,
        );
      });
    });
}
