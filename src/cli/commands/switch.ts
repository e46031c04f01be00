import type { Command } from 'commander';
import { activate, chooseLink, resolveActivation } from '../../system/activation/activate.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { printJson, withRepo } from '../context.js';
import { printActivation } from '../printers.js';

export function register(program: Command): void {
  program
    .command('switch')
    .description('activate a generation: atomically swap the link over to it')
    .argument('<target>', 'generation number of the profile, ref or commit')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nThe link points at <mountpoint>/commits/<id> while `trove mount` runs, else at a hard-link\n' +
        'checkout <repo>/checkouts/<id> (made once). A new symlink is renamed over the link, so it\n' +
        'always resolves to the old or the new generation.',
    )
    .action(async (target: string, opts: { profile: string; link?: string; json?: boolean }, cmd: Command) => {
      const r = await withRepo(cmd, async (repo) => {
        const { commit } = await resolveActivation(repo, opts.profile, target);
        return activate(repo, commit, { profile: opts.profile, link: await chooseLink(repo, opts.profile, opts.link) });
      });
      if (opts.json) return printJson(r);
      printActivation(r);
    });
}
