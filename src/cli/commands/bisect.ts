import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { type BisectStep, bisectMark, bisectReset, bisectStart } from '../../system/bisect/bisect.js';
import { bisectRun } from '../../system/bisect/run.js';
import type { Verdict } from '../../system/bisect/state.js';
import { DEFAULT_PROFILE, generationOf } from '../../system/profiles.js';
import { readCommit } from '../../repo/objects.js';
import type { Repo } from '../../repo/repo.js';
import { ensureFromRemote, remoteBisectRange } from '../../remote/bisect-remote.js';
import { assertViewForLazy } from '../../system/activation/activate.js';
import { print, printJson, say, withRepo } from '../context.js';
import { bytes, printGenerationDiff, shortId } from '../printers.js';
import { generationDiffJson } from '../json.js';

/** A step, and once the first bad commit is found its subject and (local bisects) generation number. */
type Shown<S extends BisectStep = BisectStep> = S & { firstBadSubject?: string; firstBadGeneration?: number | null };

async function withFirstBad<S extends BisectStep>(repo: Repo, s: S): Promise<Shown<S>> {
  if (!s.firstBad) return s;
  const commit = await readCommit(repo.store, s.firstBad);
  const generation = s.state.remote ? s.generation : await generationOf(repo, s.state.profile, s.firstBad);
  return { ...s, firstBadSubject: commit.subject, firstBadGeneration: generation };
}

/** `remote origin generation 7 (…)` in a remote bisect, else the commit id. */
function named(s: BisectStep, commit: string): string {
  return s.state.remote && s.generation !== null ? `remote ${s.state.remote.name} generation ${s.generation} (${commit})` : commit;
}

function printStep(s: Shown): void {
  const fetched = s.fetched ? `; fetched ${s.fetched.objects} objects (${bytes(s.fetched.bytes)})` : '';
  if (s.current) {
    print(`testing ${named(s, s.current)} at ${s.state.link} (${s.remaining} candidates left, about ${s.stepsLeft} steps${fetched})`);
    return;
  }
  if (s.firstBad) {
    const gen = !s.state.remote && s.firstBadGeneration != null ? ` (generation ${s.firstBadGeneration} of ${s.state.profile})` : '';
    const subject = s.firstBadSubject === undefined ? '' : ` — ${s.firstBadSubject || '(no subject)'}`;
    print(`first bad ${s.state.remote ? 'generation' : 'commit'}: ${named(s, s.firstBad)}${gen}${fetched}${subject}`);
    if (s.diff) printGenerationDiff(s.diff);
    else print('(it has no parent to compare with)');
    return;
  }
  print(`skipped commits leave ${s.suspects.length} suspects; the first bad commit is one of:`);
  for (const id of s.suspects) print(`  ${id}`);
}

function printResult(s: Shown, json?: boolean): void {
  if (json) return printJson({ ...s, state: undefined, diff: s.diff && generationDiffJson(s.diff), link: s.state.link, log: s.state.log, remote: s.state.remote?.name ?? null });
  printStep(s);
}

function mark(verdict: Verdict) {
  return async (rev: string | undefined, opts: { json?: boolean }, cmd: Command) => {
    const s = await withRepo(cmd, async (repo) => withFirstBad(repo, await bisectMark(repo, verdict, rev, { ensure: ensureFromRemote(repo) })));
    printResult(s, opts.json);
  };
}

export function register(program: Command): void {
  const bisect = program
    .command('bisect')
    .description('find the first bad generation or commit, activating each candidate at the link');
  bisect
    .command('start')
    .description('start a bisect session and activate the first candidate')
    .requiredOption('--good <rev>', 'a good generation number, ref or commit')
    .option('--bad <rev>', 'a bad generation number, ref or commit (default: the tip of --ref, else the newest generation)')
    .option('--ref <name>', 'bisect the first-parent history of this ref (its tip is bad unless --bad is given)')
    .option('--profile <name>', 'profile whose generation numbers and link are used', DEFAULT_PROFILE)
    .option('--link <path>', 'the symlink to swap (default: the profile’s last link, else /ro)')
    .option('--remote <name>', 'bisect the generations this remote publishes of the profile, pulling each candidate when it is tested')
    .option('--lazy', 'activate candidates through the mounted view even when partial; with --remote, pull each only lazily (commit and trees; files fetched as the test reads them)')
    .option('--json', 'print the step as JSON')
    .addHelpText(
      'after',
      '\nWith generation numbers for --good and --bad (or no --bad), the profile’s generations\n' +
        'between them are bisected; otherwise the first-parent history from --bad back to --good.\n' +
        'With --remote, --good and --bad are generation numbers the remote publishes (--bad\n' +
        'defaults to its newest); each candidate is pulled (only the objects missing here) when it\n' +
        'is activated for testing, and each step says what it fetched. With --lazy (and a mounted\n' +
        'view) a candidate is pulled without its files, which the view fetches as the test reads\n' +
        'them: a step costs what the test touches, not the whole generation.',
    )
    .action(async (opts: { good: string; bad?: string; ref?: string; profile: string; link?: string; remote?: string; lazy?: boolean; json?: boolean }, cmd: Command) => {
      const s = await withRepo(cmd, async (repo) => {
        if (opts.lazy) await assertViewForLazy(repo);
        if (opts.remote === undefined) return withFirstBad(repo, await bisectStart(repo, { ...opts, remote: undefined }));
        if (opts.ref) throw usage('--ref and --remote do not go together: a remote bisect tests published generations');
        const remote = await remoteBisectRange(repo, { remote: opts.remote, profile: opts.profile, good: opts.good, bad: opts.bad });
        return withFirstBad(repo, await bisectStart(repo, { ...opts, remote, ensure: ensureFromRemote(repo) }));
      });
      printResult(s, opts.json);
    });
  for (const verdict of ['good', 'bad', 'skip'] as const) {
    bisect
      .command(verdict)
      .description(`mark the candidate at the link (or REV) ${verdict} and activate the next one`)
      .argument('[rev]', 'a commit other than the current candidate')
      .option('--json', 'print the step as JSON')
      .action(mark(verdict));
  }
  bisect
    .command('run')
    .description('run a command on each candidate: exit 0 good, 125 skip, 1-127 bad, 128+ aborts')
    .argument('<command...>', 'the command and its arguments (put -- before it when it has options)')
    .allowUnknownOption()
    .option('--json', 'print the result as JSON')
    .action(async (argv: string[], opts: { json?: boolean }, cmd: Command) => {
      const s = await withRepo(cmd, async (repo) =>
        withFirstBad(repo, await bisectRun(repo, argv, {
          ensure: ensureFromRemote(repo),
          stdio: opts.json ? ['ignore', 'ignore', 'inherit'] : 'inherit',
          onStep: (step, verdict) => {
            if (opts.json) return;
            print(`${shortId(step.state.log.at(-1)!.commit)} is ${verdict}`);
            // A remote bisect says what each step fetched.
            if (step.current && step.state.remote) printStep(step);
          },
        })),
      );
      if (opts.json) return printJson({ ...s, state: undefined, diff: s.diff && generationDiffJson(s.diff), link: s.state.link, log: s.state.log, remote: s.state.remote?.name ?? null, fetched: s.state.fetched ?? null });
      print(`${s.steps} steps`);
      printStep(s);
    });
  bisect
    .command('reset')
    .description('end the session: the link points where it did before')
    .option('--json', 'print the link and what it points at again as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await withRepo(cmd, (repo) => bisectReset(repo));
      if (opts.json) return printJson({ link: r.link, target: r.restored });
      say(r.restored === null ? `removed ${r.link} (there was none before)` : `${r.link} -> ${r.restored}`);
    });
}
