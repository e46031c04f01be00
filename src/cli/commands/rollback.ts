import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { rollback } from '../../system/activation/rollback.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { printJson, withRepo } from '../context.js';
import { printActivation } from '../printers.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('activate the generation before the active one (or generation N)')
    .option('--to <n>', 'generation to activate')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { to?: string; profile: string; link?: string; json?: boolean }, cmd: Command) => {
      if (opts.to !== undefined && !/^[1-9]\d*$/.test(opts.to)) throw usage('--to must be a generation number');
      const r = await withRepo(cmd, (repo) =>
        rollback(repo, { profile: opts.profile, link: opts.link, to: opts.to === undefined ? undefined : Number(opts.to) }),
      );
      if (opts.json) return printJson(r);
      printActivation(r);
    });
}
