import type { Command } from 'commander';
import { Repo } from '../../repo/repo.js';
import { printJson, repoPath, say } from '../context.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('create a new, empty repository (at --repo, $TROVE_REPO or ./repo)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const repo = await Repo.init(repoPath(cmd));
      if (opts.json) printJson({ repo: repo.path });
      else say(`initialised empty trove repository in ${repo.path}`);
    });
}
