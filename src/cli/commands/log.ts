import { type Command, InvalidArgumentError } from 'commander';
import { firstParentLog } from '../../repo/log.js';
import { resolveRev } from '../../repo/resolve.js';
import { print, printJson, withRepo } from '../context.js';

/** A non-negative decimal count; anything else is a usage error. */
function count(v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`expected a number of commits (0 or more), got ${JSON.stringify(v)}`);
  return Number(v);
}

export function register(program: Command): void {
  program
    .command('log')
    .description('show first-parent history, newest first')
    .argument('<rev>', 'ref, commit id or prefix')
    .option('-n, --max-count <n>', 'show at most n commits', count)
    .option('--json', 'print commits as JSON')
    .action(async (rev: string, opts: { maxCount?: number; json?: boolean }, cmd: Command) => {
      await withRepo(cmd, async (repo) => {
        const entries = await firstParentLog(repo.store, await resolveRev(repo, rev), opts.maxCount);
        if (opts.json) return printJson(entries.map((e) => ({ id: e.id, ...e.commit })));
        for (const e of entries) {
          print(`commit ${e.id}`);
          print(`Date:   ${new Date(e.commit.timestamp * 1000).toISOString()}`);
          if (e.commit.package) print(`Package: ${e.commit.package.name} ${e.commit.package.arch} ${e.commit.package.version} r${e.commit.package.revision}`);
          print('');
          print(`    ${e.commit.subject || '(no subject)'}`);
          if (e.commit.body) for (const l of e.commit.body.split('\n')) print(`    ${l}`);
          if (e.parentMissing) print(`    (parent ${e.commit.parents[0]} is not in this repository)`);
          print('');
        }
      });
    });
}
