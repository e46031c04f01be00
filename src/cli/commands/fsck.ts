import type { Command } from 'commander';
import { systemRoots } from '../../system/roots.js';
import { corrupt } from '../../util/errors.js';
import { fsck } from '../../repo/fsck.js';
import { print, printJson, withRepo } from '../context.js';
import { bytes } from '../printers.js';

export function register(program: Command): void {
  program
    .command('fsck')
    .description('re-hash every object and check every reference from every ref; report refs that hold no id')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExit status 0 when the repository is sound, 5 when anything is missing or corrupt.')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const report = await withRepo(cmd, (repo) => fsck(repo, { roots: systemRoots }));
      if (opts.json) printJson(report);
      else {
        for (const p of report.problems) {
          if (p.id === undefined) print(`${p.problem}: ${p.where}: ${p.detail}`);
          else print(`${p.problem}: ${p.kind ?? 'object'} ${p.id}${p.where ? ` at ${p.where}` : ''}: ${p.detail}`);
        }
        print(`${report.objects} objects (${bytes(report.bytes)}); ${report.commits} commits, ${report.trees} trees, ${report.blobs} blobs reachable`);
      }
      if (!report.ok) throw corrupt(`fsck found ${report.problems.length} problem(s)`);
      if (!opts.json) print('ok');
    });
}
