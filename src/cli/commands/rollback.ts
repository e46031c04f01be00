import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { rollback } from '../../system/activation/rollback.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { printJson, withRepoAt } from '../context.js';
import { printActivation } from '../printers.js';
import { type DirectCommand, registerDirect } from '../direct.js';

export const command: DirectCommand<{ to?: string; profile: string; link?: string; json?: boolean }> = {
  name: 'rollback',
  description: 'activate the generation before the active one (or generation N)',
  args: [],
  options: [
    { flags: '--to <n>', description: 'generation to activate' },
    { flags: '--profile <name>', description: 'profile', default: DEFAULT_PROFILE },
    { flags: '--link <path>', description: 'the symlink to swap (default: the profile’s last link, else /ro)' },
    { flags: '--json', description: 'print the result as JSON' },
  ],
  async run(_args, opts, repoOption) {
    if (opts.to !== undefined && !/^[1-9]\d*$/.test(opts.to)) throw usage('--to must be a generation number');
    const r = await withRepoAt(repoOption, (repo) =>
      rollback(repo, { profile: opts.profile, link: opts.link, to: opts.to === undefined ? undefined : Number(opts.to) }),
    );
    if (opts.json) return printJson(r);
    printActivation(r);
  },
};

export function register(program: Command): void {
  registerDirect(program, command);
}
