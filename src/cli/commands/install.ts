import type { Command } from 'commander';
import { type NetworkFlags, networkOptions, transportOf } from '../options.js';
import { listRemotes } from '../../remote/config.js';
import { type InstallFromRemoteResult, installFromRemotes } from '../../remote/install-packages.js';
import { installPackages } from '../../system/generations/install.js';
import { parsePackageSpec } from '../../system/packages/spec.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { print as printData, printJson, say, withRepo } from '../context.js';
import { bytes, files, printActivation, printBuild } from '../printers.js';
import { withMeter } from '../progress.js';
import { numbered, numberedOrNull } from '../json.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from '../summary-refresh.js';

interface Opts extends SummaryOpts, NetworkFlags {
  profile: string;
  link?: string;
  switch: boolean;
  deps: boolean;
  remote?: string;
  dryRun?: boolean;
  lazy?: boolean;
  json?: boolean;
}

function printPlan(r: InstallFromRemoteResult): void {
  // A dry run's plan is what was asked for; a real run's is a confirmation (not under -q).
  const print = r.dryRun ? printData : say;
  for (const x of r.remotes) {
    const what = x.index ? `${x.packages} packages in its index${x.downloaded ? ' (index fetched)' : x.cached ? ' (cached index: the remote could not be reached)' : ''}` : 'no package index';
    print(`remote ${x.remote}: ${what}`);
  }
  for (const p of r.packages) {
    const fetch = p.fetch ? `  fetch ${p.objects} objects, ${bytes(p.bytes)}` : '';
    print(`  ${p.state.padEnd(4)}  ${p.dependency ? 'dep  ' : 'asked'}  ${p.label}  (${p.source})${fetch}`);
  }
  const via = r.plan.deltas.length ? ` (${r.plan.deltas.length} delta packs)` : '';
  print(`${r.dryRun ? 'would fetch' : 'to fetch'}: ${r.packages.filter((p) => p.fetch).length} packages, ${r.plan.objects} objects, ${bytes(r.plan.bytes)}${via}`);
}

export function register(program: Command): void {
  const command = program
    .command('install')
    .description('a new generation: the active one plus (or with newer) packages, local or from remotes, then activate it')
    .argument('<packages...>', 'NAME[/ARCH][@REVISION][=PRIORITY]; their dependencies come too (a dependency the active generation satisfies stays as it is)')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--no-switch', 'only build the generation; do not activate it')
    .option('--no-deps', 'exactly the packages named, without their dependencies')
    .option('--remote <name>', 'resolve against this remote’s package index (default: the local packages, then every configured remote)')
    .option('--dry-run', 'print the packages, objects and bytes it would fetch; fetch no package object, record nothing')
    .option('--lazy', 'fetch the packages’ commits and trees only and activate through the mounted view, which fetches each file on its first read (see trove fetch)');
  networkOptions(command)
    .option('--json', 'print the result as JSON')
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText(
      'after',
      '\nWith remotes, their summaries (and package indexes, when changed) are read first; only the\n' +
        'objects of the chosen packages that this repository lacks are fetched, verified, and recorded\n' +
        'as refs/remotes/<remote>/pkg/<name>/<arch>. A local package wins over a remote’s of the same version.\n' +
        'With --lazy (and a mounted view, see trove mount) the generation is usable once its trees are\n' +
        'here: files arrive as programs read them, and trove fetch --wait brings the rest.\n' +
        SUMMARY_HELP,
    )
    .action(async (specs: string[], opts: Opts, cmd: Command) => {
      const parsed = specs.map(parsePackageSpec);
      const transport = transportOf(opts);
      const activate = opts.switch ? { link: opts.link } : undefined;
      const summaryKey = await summaryKeyOf(opts);
      const r = await withRepo(cmd, async (repo) => {
        const remotes = Object.keys(await listRemotes(repo.path));
        if (opts.remote === undefined && remotes.length === 0 && !opts.dryRun) {
          const local = await installPackages(repo, parsed, { profile: opts.profile, noDeps: !opts.deps, activate });
          await updateSummaryAfter(repo, opts, summaryKey);
          return { local };
        }
        const remote = await withMeter(cmd, 'install', (m) =>
          installFromRemotes(repo, parsed, {
            remote: opts.remote,
            profile: opts.profile,
            noDeps: !opts.deps,
            activate,
            dryRun: opts.dryRun,
            lazy: opts.lazy,
            ...transport,
            onProgress: m.onPull,
            onNotice: (n) => m.log(`trove: ${n}`),
          }),
        );
        if (!remote.dryRun) await updateSummaryAfter(repo, opts, summaryKey);
        return { remote };
      });
      if (opts.json) return printJson(r.local ? numbered(r.local) : { ...r.remote!, install: numberedOrNull(r.remote!.install) });
      const built = r.local ?? r.remote!.install;
      if (r.remote) {
        printPlan(r.remote);
        if (!r.remote.dryRun) say(`fetched ${r.remote.fetched.objects} objects (${bytes(r.remote.fetched.bytes)}); ${r.remote.transfer.requests} requests, ${bytes(r.remote.transfer.bytes)} received`);
        if (r.remote.lazy) say(`not fetched: the ${files(r.remote.lazy.objects)} (${bytes(r.remote.lazy.bytes)}) the new trees name; the view fetches those it lacks as they are read, trove fetch --wait brings the rest`);
      }
      if (!built) return;
      printBuild(built);
      if (built.activated) printActivation(built.activated);
      else say(`activate it with: trove switch ${built.number} --profile ${opts.profile}`);
    });
}
