import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { resolveActivation } from '../../system/activation/activate.js';
import { buildGeneration } from '../../system/generations/build.js';
import { diffGenerations } from '../../system/generations/diff.js';
import { listGenerationRows, showGeneration } from '../../system/generations/list.js';
import { parseDuration, pruneGenerations } from '../../system/generations/prune.js';
import { parsePackageSpec } from '../../system/packages/spec.js';
import { DEFAULT_PROFILE, profileDir } from '../../system/profiles.js';
import { isPublished, setPublished } from '../../system/generations/published.js';
import { writeSummary } from '../../remote/summary.js';
import { SUMMARY_PATH } from '../../remote/layout.js';
import { pathExists } from '../../util/path-exists.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { print, printJson, say, withRepo } from '../context.js';
import { printBuild, printGenerationDiff, shortId } from '../printers.js';
import { generationDiffJson, numbered } from '../json.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from '../summary-refresh.js';

export function register(program: Command): void {
  const gen = program.command('gen').description('build, list, compare and prune generations of a profile');
  gen
    .command('build')
    .description('build a generation from packages and record it as the profile’s next one')
    .argument('<packages...>', 'NAME[/ARCH][@REVISION][=PRIORITY] (higher priority wins conflicts); their dependencies come too')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--no-deps', 'exactly the packages named, without their dependencies')
    .option('--json', 'print the result as JSON')
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (specs: string[], opts: SummaryOpts & { profile: string; deps: boolean; json?: boolean }, cmd: Command) => {
      const parsed = specs.map(parsePackageSpec);
      const summaryKey = await summaryKeyOf(opts);
      const r = await withRepo(cmd, async (repo) => {
        const built = await buildGeneration(repo, { profile: opts.profile, specs: parsed, noDeps: !opts.deps });
        await updateSummaryAfter(repo, opts, summaryKey);
        return built;
      });
      if (opts.json) return printJson(numbered(r));
      printBuild(r);
    });
  gen
    .command('publish')
    .description('list the generations of a profile in the summary, so clients can follow it with trove upgrade')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--stop', 'stop publishing the profile')
    .option('--summary-key <file>', SUMMARY_KEY)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nMarks the profile published (profiles/<P>/published) and rewrites the summary (writing\n' +
        'one when there is none). After that, the commands that rewrite the summary (gen build,\n' +
        'commit, pkg add, delta) keep the list current; after others, run trove summary. A signed summary is re-signed\n' +
        'only with --summary-key or $TROVE_SUMMARY_KEY; without a key it is left stale, with a warning.',
    )
    .action(async (opts: { profile: string; stop?: boolean; summaryKey?: string; json?: boolean }, cmd: Command) => {
      const summaryOpts: SummaryOpts = { updateSummary: true, summaryKey: opts.summaryKey };
      const summaryKey = await summaryKeyOf(summaryOpts);
      const r = await withRepo(cmd, async (repo) => {
        const was = await isPublished(repo, opts.profile);
        if (!opts.stop) await mkdir(profileDir(repo, opts.profile), { recursive: true });
        await setPublished(repo, opts.profile, !opts.stop);
        let summary: 'written' | 'updated' | 'stale' | 'failed';
        if (!(await pathExists(join(repo.path, SUMMARY_PATH)))) {
          await writeSummary(repo, { privateKeyPem: summaryKey });
          summary = 'written';
        } else {
          const u = await updateSummaryAfter(repo, summaryOpts, summaryKey);
          summary = u === undefined ? 'failed' : u.state === 'stale' ? 'stale' : 'updated';
        }
        return { profile: opts.profile, published: !opts.stop, changed: was === Boolean(opts.stop), summary };
      });
      if (opts.json) return printJson(r);
      const what = r.published ? 'published' : 'not published';
      say(`profile ${r.profile} is ${r.changed ? 'now ' : ''}${what}; summary ${r.summary === 'stale' ? 'left stale (signed, no key)' : r.summary}`);
    });
  gen
    .command('list')
    .description('list the generations of a profile with the packages each added and removed')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--json', 'print generations as JSON')
    .action(async (opts: { profile: string; json?: boolean }, cmd: Command) => {
      const rows = await withRepo(cmd, (repo) => listGenerationRows(repo, { profile: opts.profile }));
      if (opts.json) return printJson(rows.map(numbered));
      for (const r of rows) {
        const changes = [...r.added.map((p) => `+${p}`), ...r.removed.map((p) => `-${p}`), ...r.changed.map((c) => `~${c.to}`)];
        print(
          `${r.active ? '*' : ' '} ${String(r.number).padStart(4)}  ${shortId(r.commit)}  ${new Date(r.timestamp * 1000).toISOString()}  ` +
            `${r.packages.length} packages  ${changes.join(' ') || '(no package changes)'}` +
            (r.origin ? `  (from ${r.origin.remote} generation ${r.origin.generation})` : '') +
            (r.lazy ? '  (lazy: files still on the remote; switch --lazy, or trove fetch)' : ''),
        );
      }
    });
  gen
    .command('show')
    .description('show a generation’s packages: those asked for and those that came in as dependencies')
    .argument('[generation]', 'generation number, ref or commit (default: the active one, else the newest)')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--json', 'print the generation as JSON')
    .action(async (which: string | undefined, opts: { profile: string; json?: boolean }, cmd: Command) => {
      const g = await withRepo(cmd, (repo) => showGeneration(repo, { profile: opts.profile, generation: which }));
      if (opts.json) return printJson(numbered(g));
      print(`generation ${g.number ?? '(unnumbered)'} of ${g.profile}: ${g.commit}${g.active ? ' (active)' : ''}`);
      print(`date     ${new Date(g.timestamp * 1000).toISOString()}`);
      print(`packages ${g.packages.length}: ${g.asked.length} asked for, ${g.dependencies.length} as dependencies; ${g.conflicts.length} conflicts`);
      for (const p of g.packages) print(`  ${p.dependency ? 'dep  ' : 'asked'}  ${p.label}${p.priority ? `  priority ${p.priority}` : ''}`);
    });
  gen
    .command('diff')
    .description('packages and files that changed between two generations')
    .argument('<a>', 'generation number, ref or commit')
    .argument('<b>', 'generation number, ref or commit')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--json', 'print the difference as JSON')
    .action(async (a: string, b: string, opts: { profile: string; json?: boolean }, cmd: Command) => {
      const d = await withRepo(cmd, async (repo) => {
        const ca = await resolveActivation(repo, opts.profile, a);
        const cb = await resolveActivation(repo, opts.profile, b);
        return diffGenerations(repo.store, ca.commit, cb.commit);
      });
      if (opts.json) return printJson(generationDiffJson(d));
      printGenerationDiff(d);
    });
  gen
    .command('prune')
    .description('forget old generations (their objects go at the next gc); the active and newest stay')
    .option('--keep <n>', 'keep the n newest generations')
    .option('--older-than <duration>', 'remove generations older than this (e.g. 30d, 12h)')
    .option('--profile <name>', 'profile', DEFAULT_PROFILE)
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the result as JSON')
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (opts: SummaryOpts & { keep?: string; olderThan?: string; profile: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      if (opts.keep !== undefined && !/^\d+$/.test(opts.keep)) throw usage('--keep must be a whole number');
      const summaryKey = await summaryKeyOf(opts);
      const r = await withRepo(cmd, async (repo) => {
        const pruned = await pruneGenerations(repo, {
          profile: opts.profile,
          keep: opts.keep === undefined ? undefined : Number(opts.keep),
          olderThan: opts.olderThan === undefined ? undefined : parseDuration(opts.olderThan),
          dryRun: opts.dryRun,
        });
        // A published profile's pruned generations leave the summary a server serves.
        if (!opts.dryRun && pruned.removed.length > 0) await updateSummaryAfter(repo, opts, summaryKey);
        return pruned;
      });
      if (opts.json) return printJson(r);
      (opts.dryRun ? print : say)(`${opts.dryRun ? 'would remove' : 'removed'} ${r.removed.length} generations${r.removed.length ? `: ${r.removed.join(' ')}` : ''}; kept ${r.kept.join(' ') || 'none'}`);
    });
}
