import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { completePartials } from '../../remote/complete.js';
import { readPartials } from '../../repo/partial.js';
import { resolveActivation } from '../../system/activation/activate.js';
import { DEFAULT_PROFILE } from '../../system/profiles.js';
import { print, printJson, say, withRepo } from '../context.js';
import { bytes, files } from '../printers.js';
import { withMeter } from '../progress.js';
import { type NetworkFlags, networkOptions, transportOf } from '../options.js';
import { ioError, usage } from '../../util/errors.js';
import { lowestPriority } from '../../util/process.js';

interface Opts extends NetworkFlags {
  wait?: boolean;
  background?: boolean;
  profile: string;
  json?: boolean;
}

/** `<repo>/fetch.log`: what a background fetch prints. */
const logOf = (repoPath: string) => join(repoPath, 'fetch.log');

export function register(program: Command): void {
  const command = program
    .command('fetch')
    .description('bring the files of partial commits (install or upgrade --lazy) from their remotes, so nothing is left to fetch on read')
    .argument('[revisions...]', 'partial commits to complete (commit ids, refs, generation numbers of --profile); default: every one')
    .option('--wait', 'run in the foreground until every file has arrived, after any background fetch that is running (the default)')
    .option('--background', 'start a detached, low-priority fetch and return at once (log: <repo>/fetch.log)')
    .option('--profile <name>', 'profile whose generation numbers the revisions name', DEFAULT_PROFILE);
  networkOptions(command)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nA lazy install or upgrade records each commit it left files of on a remote as partial\n' +
        '(<repo>/partial/<commit>); the view fetches a file when it is first read. fetch brings\n' +
        'the rest: each file verified, in the order the view saw them read the last time (the\n' +
        'access trace, <repo>/traces/), and drops the record once its commit is complete, after\n' +
        'which a switch to it never touches the network. A remote that fails leaves its commit\n' +
        'partial (exit 1); run fetch again.',
    )
    .action(async (revisions: string[], opts: Opts, cmd: Command) => {
      if (opts.wait && opts.background) throw usage('--wait and --background exclude each other');
      if (opts.background) {
        const r = await withRepo(cmd, async (repo) => {
          // Every network setting given here holds for the fetch it starts.
          const network = ['--jobs', opts.jobs, '--pipelining', opts.pipelining, '--retries', opts.retries, '--timeout', opts.timeout];
          const args = [process.argv[1]!, '--repo', repo.path, 'fetch', '--wait', '--no-progress', ...network, ...revisions, '--profile', opts.profile];
          const log = openSync(logOf(repo.path), 'a');
          const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
          closeSync(log);
          // The lowest priority: what the view fetches on read, and the programs reading, go first
          // (docs/benchmarks.md, lazy row 3). Its session's group too: detached, it is a session of its own.
          lowestPriority(child.pid);
          child.unref();
          return { pid: child.pid ?? null, log: logOf(repo.path), partial: readPartials(repo.path).size };
        });
        if (opts.json) return printJson({ background: r });
        return say(`fetching the files of ${r.partial} partial commits in the background (pid ${r.pid}; log: ${r.log}); trove fetch --wait waits for it`);
      }
      const r = await withRepo(cmd, async (repo) => {
        const commits = revisions.length ? await Promise.all(revisions.map(async (rev) => (await resolveActivation(repo, opts.profile, rev)).commit)) : undefined;
        return withMeter(cmd, 'fetch', (m) =>
          completePartials(repo, { commits, ...transportOf(opts), onProgress: m.onPull, onNotice: (n) => m.log(`trove: ${n}`) }),
        );
      });
      if (opts.json) printJson(r);
      else {
        for (const c of r.completed) print(`complete: ${c.commit}${c.remote ? ` (${files(c.objects)}, ${bytes(c.bytes)} from ${c.remote})` : ''}`);
        for (const c of r.remaining) print(`still partial: ${c}`);
        say(`fetched ${files(r.fetched.objects)} (${bytes(r.fetched.bytes)}) in ${r.seconds.toFixed(2)} s; ${r.remaining.length ? `${r.remaining.length} commits still partial` : 'nothing left to fetch'}`);
      }
      if (r.remaining.length) throw ioError(`${r.remaining.length} commits are still partial: their remotes failed (see the notices above); run trove fetch again`);
    });
}
