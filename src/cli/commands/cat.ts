import type { Command } from 'commander';
import { TroveError, usage } from '../../util/errors.js';
import { locate } from '../../repo/resolve.js';
import { io, withRepo } from '../context.js';

export function register(program: Command): void {
  program
    .command('cat')
    .description("print a file's content (verified against its id before it is written)")
    .argument('<rev:path>', 'ref or commit, a colon, and the path of a file')
    .action(async (spec: string, _opts: unknown, cmd: Command) => {
      if (!spec.includes(':')) throw usage('cat needs REV:PATH');
      await withRepo(cmd, async (repo) => {
        const loc = await locate(repo, spec);
        if (loc.kind === 'root' || loc.entry.kind === 'dir') throw new TroveError('E_USAGE', `${spec} is a directory`);
        if (loc.entry.kind === 'symlink') throw new TroveError('E_USAGE', `${spec} is a symlink to ${loc.entry.target}`);
        const bytes = await repo.store.get(loc.entry.id!);
        await new Promise<void>((resolve, reject) => io().stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
      });
    });
}
