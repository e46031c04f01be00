import type { Command } from 'commander';
import { activate, chooseLink } from '../../ops/activate.js';
import type { BuildResult } from '../../ops/generation-build.js';
import { installPackages } from '../../ops/generation-derive.js';
import { type PackageSpec, parsePackageSpec } from '../../ops/pkg-spec.js';
import { DEFAULT_PROFILE } from '../../ops/profile.js';
import type { Repo } from '../../repo.js';
import { print, printJson, withRepo } from '../context.js';
import { printBuild } from './gen.js';
import { printActivation } from './switch.js';

interface DeriveOpts {
  profile: string;
  link?: string;
  switch: boolean;
  json?: boolean;
}

type Derive = (repo: Repo, specs: PackageSpec[], opts: { profile: string }) => Promise<BuildResult>;

/** A command that derives a generation from the active one and activates it (install, remove). */
export function registerDerive(program: Command, name: string, description: string, packages: string, derive: Derive): void {
  program
    .command(name)
    .description(description)
    .argument('<packages...>', packages)
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--no-switch', 'only build the generation; do not activate it')
    .option('--json', 'print the result as JSON')
    .action(async (specs: string[], opts: DeriveOpts, cmd: Command) => {
      const parsed = specs.map(parsePackageSpec);
      await withRepo(cmd, async (repo) => {
        const built = await derive(repo, parsed, { profile: opts.profile });
        const link = await chooseLink(repo, opts.profile, opts.link);
        const activated = opts.switch ? await activate(repo, built.commit, { profile: opts.profile, link }) : null;
        if (opts.json) return printJson({ ...built, activated });
        printBuild(built);
        if (activated) printActivation(activated);
        else print(`activate it with: trove switch ${built.number} --profile ${opts.profile}`);
      });
    });
}

export function register(program: Command): void {
  registerDerive(
    program,
    'install',
    'a new generation: the active one plus (or with newer) packages, then activate it',
    'NAME[/ARCH][@REVISION][=PRIORITY]',
    installPackages,
  );
}
