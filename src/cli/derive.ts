import type { Command } from 'commander';
import type { DeriveOptions, DeriveResult } from '../system/generations/install.js';
import { type PackageSpec, parsePackageSpec } from '../system/packages/spec.js';
import { DEFAULT_PROFILE } from '../system/profiles.js';
import type { Repo } from '../repo/repo.js';
import { printJson, say, withRepo } from './context.js';
import { printActivation, printBuild } from './printers.js';
import { numbered } from './json.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from './summary-refresh.js';

interface DeriveOpts extends SummaryOpts {
  profile: string;
  link?: string;
  switch: boolean;
  deps: boolean;
  json?: boolean;
}

type Derive = (repo: Repo, specs: PackageSpec[], opts: DeriveOptions) => Promise<DeriveResult>;

/** A command that derives a generation from the active one and activates it (install, remove). */
export function registerDerive(program: Command, name: string, description: string, packages: string, noDeps: string, derive: Derive): void {
  program
    .command(name)
    .description(description)
    .argument('<packages...>', packages)
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--no-switch', 'only build the generation; do not activate it')
    .option('--no-deps', noDeps)
    .option('--json', 'print the result as JSON')
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (specs: string[], opts: DeriveOpts, cmd: Command) => {
      const parsed = specs.map(parsePackageSpec);
      const summaryKey = await summaryKeyOf(opts);
      const built = await withRepo(cmd, async (repo) => {
        const r = await derive(repo, parsed, { profile: opts.profile, noDeps: !opts.deps, activate: opts.switch ? { link: opts.link } : undefined });
        // A published profile's new generation goes into the summary a server serves.
        await updateSummaryAfter(repo, opts, summaryKey);
        return r;
      });
      if (opts.json) return printJson(numbered(built));
      if (built.removed) say(`removed: ${built.removed.join(' ')}`);
      if (built.autoremoved?.length) say(`no longer needed, removed: ${built.autoremoved.join(' ')}`);
      printBuild(built);
      if (built.activated) printActivation(built.activated);
      else say(`activate it with: trove switch ${built.number} --profile ${opts.profile}`);
    });
}
