import type { Command } from 'commander';
import { status } from '../../system/activation/status.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { print, printJson, withRepo } from '../context.js';
import { shortId } from '../printers.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('the active generation of a profile, its link and what the link points at')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { profile: string; json?: boolean }, cmd: Command) => {
      const s = await withRepo(cmd, (repo) => status(repo, { profile: opts.profile }));
      if (opts.json) return printJson(s);
      print(`profile     ${s.profile} (${s.generations} generations${s.newest === null ? '' : `, newest ${s.newest}`})`);
      if (!s.active) return print('active      none (activate one with: trove switch N)');
      const a = s.active;
      print(`active      ${a.generation === null ? 'commit' : `generation ${a.generation},`} ${a.commit}`);
      print(`since       ${new Date(a.time * 1000).toISOString()}`);
      print(`link        ${a.link}`);
      print(`target      ${a.target}`);
      if (s.bisecting) print(`bisecting   the link shows candidate ${shortId(s.bisecting)} (trove bisect reset restores it)`);
      if (s.problem) print(`warning     ${s.problem}`);
    });
}
