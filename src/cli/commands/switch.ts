import type { Command } from 'commander';
import { activate, chooseLink, resolveActivation } from '../../system/activation/activate.js';
import { restoreCheckoutViews } from '../../system/activation/checkouts.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { printJson, say, withRepoAt } from '../context.js';
import { usage } from '../../util/errors.js';
import { printActivation } from '../printers.js';
import { type DirectCommand, registerDirect } from '../direct.js';

export const command: DirectCommand<{ profile: string; link?: string; json?: boolean; restore?: boolean; lazy?: boolean }> = {
  name: 'switch',
  description: 'activate a generation: atomically swap the link over to it',
  args: [{ syntax: '[target]', description: 'generation number of the profile, ref or commit' }],
  options: [
    { flags: '--restore', description: 'no target: mount again the read-only checkouts active links point at (after a reboot)' },
    { flags: '--profile <name>', description: 'profile', default: DEFAULT_PROFILE },
    { flags: '--link <path>', description: 'the symlink to swap (default: the profile’s last link, else /ro)' },
    { flags: '--lazy', description: 'activate a partial generation (install or upgrade --lazy) through the mounted view, which fetches its files as they are read' },
    { flags: '--json', description: 'print the result as JSON' },
  ],
  help:
    '\nThe link points at <mountpoint>/commits/<id> while `trove mount` runs, else at a hard-link\n' +
    'checkout <repo>/checkouts/<id> (made once). A new symlink is renamed over the link, so it\n' +
    'always resolves to the old or the new generation. As root the checkout is a read-only mount\n' +
    'of hard links to the store (every write is EROFS); otherwise a copy. A reboot undoes those\n' +
    'mounts: `trove switch --restore` (or `trove mount` at boot) mounts them again.\n' +
    'A partial generation (its files still on a remote) is refused unless --lazy: trove fetch N\n' +
    'brings its files first, after which a switch to it never touches the network.',
  async run([target], opts, repoOption) {
    if (opts.restore) {
      if (target !== undefined || opts.link) throw usage('--restore takes no target and no --link: it restores what the active records name');
      const restored = await withRepoAt(repoOption, (repo) => restoreCheckoutViews(repo));
      if (opts.json) return printJson({ restored });
      for (const v of restored) say(`mounted the read-only checkout ${v.target} again (${v.link}, profile ${v.profile})`);
      if (restored.length === 0) say('nothing to restore: every checkout an active link points at is in place');
      return;
    }
    if (target === undefined) throw usage('switch needs a target (a generation number, ref or commit), or --restore');
    const r = await withRepoAt(repoOption, async (repo) => {
      const { commit } = await resolveActivation(repo, opts.profile, target);
      return activate(repo, commit, { profile: opts.profile, link: await chooseLink(repo, opts.profile, opts.link), lazy: opts.lazy });
    });
    if (opts.json) return printJson(r);
    printActivation(r);
  },
};

export function register(program: Command): void {
  registerDirect(program, command);
}
