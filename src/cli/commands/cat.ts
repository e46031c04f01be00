import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { readFileAt } from '../../repo/browse.js';
import { inProfile } from '../../system/revisions.js';
import { io, withRepo } from '../context.js';

export function register(program: Command): void {
  program
    .command('cat')
    .description("print a file's content (verified against its id before it is written)")
    .argument('<rev:path>', 'ref or commit, a colon, and the path of a file')
    .option('--profile <p>', 'the profile whose generation numbers count (default: system)')
    .action(async (spec: string, opts: { profile?: string }, cmd: Command) => {
      if (!spec.includes(':')) throw usage('cat needs REV:PATH');
      await withRepo(cmd, async (repo) => {
        const bytes = await readFileAt(repo, spec, inProfile(repo, opts.profile));
        await new Promise<void>((resolve, reject) => io().stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
      });
    });
}
