import type { Command } from 'commander';
import { activate, chooseLink, resolveActivation } from '../../system/activation/activate.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { printJson, say, withRepo } from '../context.js';
import { usage } from '../../util/errors.js';
import { printActivation } from '../printers.js';

export function register(program: Command): void {
  program
    .command('switch')
    .description('activate a generation: atomically swap the link over to it')
    .argument('[target]', 'generation number of the profile, ref or commit')
    .option('--restore', 'no target: mount again the read-only checkouts active links point at (after a reboot)')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nThe link points at <mountpoint>/commits/<id> while `trove mount` runs, else at a hard-link\n' +
        'checkout <repo>/checkouts/<id> (made once). A new symlink is renamed over the link, so it\n' +
        'always resolves to the old or the new generation. As root the checkout is a read-only mount\n' +
        'of hard links to the store (every write is EROFS); otherwise a copy. A reboot undoes those\n' +
        'mounts: `trove switch --restore` (or `trove mount` at boot) mounts them again.',
    )
    .action(async (target: string | undefined, opts: { profile: string; link?: string; json?: boolean; restore?: boolean }, cmd: Command) => {
      if (opts.restore) {
        if (target !== undefined || opts.link) throw usage('--restore takes no target and no --link: it restores what the active records name');
        const { restoreCheckoutViews } = await import('../../system/activation/checkouts.js');
        const restored = await withRepo(cmd, (repo) => restoreCheckoutViews(repo));
        if (opts.json) return printJson({ restored });
        for (const v of restored) say(`mounted the read-only checkout ${v.target} again (${v.link}, profile ${v.profile})`);
        if (restored.length === 0) say('nothing to restore: every checkout an active link points at is in place');
        return;
      }
      if (target === undefined) throw usage('switch needs a target (a generation number, ref or commit), or --restore');
      const r = await withRepo(cmd, async (repo) => {
        const { commit } = await resolveActivation(repo, opts.profile, target);
        return activate(repo, commit, { profile: opts.profile, link: await chooseLink(repo, opts.profile, opts.link) });
      });
      if (opts.json) return printJson(r);
      printActivation(r);
    });
}
