import type { Command } from 'commander';
import { upgrade } from '../../remote/upgrade.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { print, printJson, say, withRepo } from '../context.js';
import { bytes, files, printActivation, shortId } from '../printers.js';
import { withMeter } from '../progress.js';
import { type NetworkFlags, networkOptions, transportOf } from '../options.js';
import { numbered } from '../json.js';

interface Opts extends NetworkFlags {
  remote?: string;
  profile: string;
  link?: string;
  dryRun?: boolean;
  lazy?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('upgrade')
    .description('pull the newest generation a remote publishes of a profile, record it as the next generation and activate it')
    .option('--remote <name>', 'configured remote (default: the only one, else origin)')
    .option('--profile <name>', 'profile to follow (the remote’s) and record into (here)', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--dry-run', 'record and activate nothing: say which generation and how many objects and bytes it would fetch')
    .option('--lazy', 'fetch the commit and its trees only and activate through the mounted view, which fetches each file on its first read (see trove fetch)');
  networkOptions(command, { deltas: true })
    .option('--json', 'print the result as JSON (no progress bar)')
    .addHelpText(
      'after',
      '\nOnly what is missing is fetched: one delta pack from a commit this repository has,\n' +
        'when the server offers one, else object by object, each verified. The generation is\n' +
        'recorded with where it came from (gen list, status show it); rollback and switch treat\n' +
        'it as any other generation. When it is active already, nothing is done ("up to date").\n' +
        '--dry-run fetches the summary and the commit and trees this repository lacks (not\n' +
        'stored) to count the objects and bytes a pull would store.\n' +
        '--lazy needs a mounted view (trove mount): the generation is usable once its trees\n' +
        'are here, and files arrive as programs read them; trove fetch --wait brings the rest.',
    )
    .action(async (opts: Opts, cmd: Command) => {
      const r = await withRepo(cmd, (repo) =>
        withMeter(cmd, 'upgrade', (m) => upgrade(repo, {
          remote: opts.remote,
          profile: opts.profile,
          link: opts.link,
          dryRun: opts.dryRun,
          deltas: opts.deltas,
          lazy: opts.lazy,
          ...transportOf(opts),
          onProgress: m.onPull,
          onNotice: (n) => m.log(`trove: ${n}`),
        })),
      );
      if (opts.json) {
        const { activation: activated, ...rest } = r;
        return printJson({ ...rest, published: numbered(r.published), activated });
      }
      const from = `${r.remote} generation ${r.published.number} (${shortId(r.published.commit)})`;
      if (r.state === 'up-to-date') return say(`${r.profile}: up to date with ${from}, generation ${r.generation}`);
      if (r.state === 'dry-run') {
        const delta = r.wouldUseDelta ? `, or one delta pack of ${bytes(r.wouldUseDelta.size)}` : '';
        return print(
          r.generation !== null
            ? `${r.profile}: would activate ${from}, already generation ${r.generation} here; nothing to fetch`
            : `${r.profile}: would upgrade to ${from}: ${r.fetched.objects} objects (${bytes(r.fetched.bytes)}) missing${delta}`,
        );
      }
      if (r.state === 'activated') say(`${r.profile}: ${from} is generation ${r.generation} here already; activating it`);
      else {
        const via = r.deltas.used.length ? ` via ${r.deltas.used.length} delta${r.deltas.used.length > 1 ? 's' : ''}` : '';
        say(`${r.profile}: upgraded to ${from} as generation ${r.generation}`);
        say(
          `fetched ${r.fetched.objects} objects (${bytes(r.fetched.bytes)})${via}; ` +
            `${r.transfer?.requests ?? 0} requests, ${bytes(r.transfer?.bytes ?? 0)} received in ${r.seconds.toFixed(2)} s`,
        );
        if (r.lazy) say(`not fetched: the ${files(r.lazy.objects)} (${bytes(r.lazy.bytes)}) the new trees name; the view fetches those it lacks as they are read, trove fetch --wait brings the rest`);
      }
      if (r.activation) printActivation(r.activation);
    });
}
