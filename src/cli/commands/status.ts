import type { Command } from 'commander';
import { status } from '../../system/activation/status.js';
import { publishedStatus } from '../../remote/published-status.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { print, printJson, withRepoAt } from '../context.js';
import { type DirectCommand, registerDirect } from '../direct.js';
import { bytes, files, shortId } from '../printers.js';
import { numberedOrNull } from '../json.js';

export const command: DirectCommand<{ profile: string; remoteCheck?: boolean; json?: boolean }> = {
  name: 'status',
  description: 'the active generation of a profile, its link and what the link points at',
  args: [],
  options: [
    { flags: '--profile <name>', description: 'profile', default: DEFAULT_PROFILE },
    {
      flags: '--remote-check',
      description: 'for an upgraded generation, fetch the remote’s summary now to see whether a newer one is published',
      viaCommander: true,
    },
    { flags: '--json', description: 'print the status as JSON' },
  ],
  help:
    '\nFor a generation recorded by trove upgrade, status names the remote generation it is\n' +
    'and, from the summary the last upgrade fetched (no network), whether a newer one is\n' +
    'published; --remote-check fetches the summary first.',
  async run(_args, opts, repoOption) {
    const { s, published } = await withRepoAt(repoOption, async (repo) => ({
      s: await status(repo, { profile: opts.profile }),
      published: await publishedStatus(repo, opts.profile, { check: opts.remoteCheck }),
    }));
    if (opts.json) {
      const { link: linkStatus, ...rest } = s;
      return printJson({ ...rest, linkStatus, published: published && { ...published, newest: numberedOrNull(published.newest) } });
    }
    print(`profile     ${s.profile} (${s.generations} generations${s.newest === null ? '' : `, newest ${s.newest}`})`);
    if (!s.active) return print('active      none (activate one with: trove switch N)');
    const a = s.active;
    print(`active      ${a.generation === null ? 'commit' : `generation ${a.generation},`} ${a.commit}`);
    if (published) {
      const o = published.origin;
      print(`from        ${o.remote} generation ${o.generation}${o.profile === s.profile ? '' : ` of profile ${o.profile}`}`);
      if (published.newest && published.checked !== null) {
        const when = new Date(published.checked * 1000).toISOString();
        print(
          published.newer
            ? `published   newer: ${o.remote} generation ${published.newest.number} (${shortId(published.newest.commit)}), as of ${when}; run trove upgrade`
            : `published   up to date as of ${when}`,
        );
      }
    }
    if (s.notFetched) {
      const nf = s.notFetched;
      print(`lazy        ${files(nf.objects)} (${bytes(nf.bytes)}) still on ${nf.remotes.join(', ') || 'its remote'}, fetched as they are read; trove fetch brings the rest`);
    }
    print(`since       ${new Date(a.time * 1000).toISOString()}`);
    print(`link        ${a.link}`);
    print(`target      ${a.target}`);
    if (s.bisecting) print(`bisecting   the link shows candidate ${shortId(s.bisecting)} (trove bisect reset restores it)`);
    if (s.problem) print(`warning     ${s.problem}`);
  },
};

export function register(program: Command): void {
  registerDirect(program, command);
}
