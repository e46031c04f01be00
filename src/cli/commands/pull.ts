import type { Command } from 'commander';
import { notFound } from '../../util/errors.js';
import { checkSummary } from '../../remote/check.js';
import { pull } from '../../remote/pull.js';
import { withMeter } from '../progress.js';
import { detail, print, printJson, say, withRepo } from '../context.js';
import { bytes, shortId } from '../printers.js';
import { type NetworkFlags, networkOptions, transportOf } from '../options.js';

interface Opts extends NetworkFlags {
  mirror?: boolean;
  check?: boolean;
  fsync?: boolean;
  allowDowngrade?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('pull')
    .description('fetch refs from a remote: only missing objects (or one delta pack), verified, then update refs/remotes/<remote>/<ref>')
    .argument('<remote>', 'configured remote name')
    .argument('[refs...]', 'refs to pull (default: every ref in the remote summary)')
    .option('--mirror', 'copy refs into refs/heads with their signatures, and keep the upstream summary, summary.sig and delta packs (to serve them in turn)');
  networkOptions(command, { deltas: true })
    .option('--allow-downgrade', 'accept a signed summary older than the last one accepted, and refs moving to commits that do not descend from theirs')
    .option('--fsync', 'flush to disk before refs move')
    .option('--check', 'fetch nothing: say whether the remote summary is older than its refs ("stale", exit 3) or "current"')
    .option('--json', 'print the result as JSON (no progress bar)')
    .addHelpText(
      'after',
      '\nEvery object is re-hashed before it is stored; an object is stored only after\n' +
        'everything it references, so an interrupted pull resumes where it stopped.\n' +
        'Objects recorded as missing in quarantine/ (see fsck --repair) are fetched too.\n' +
        'A named ref the summary does not list is not found (exit 3), even if the server has it\n' +
        'since: a stale summary. --check compares the summary with the refs/heads files of a\n' +
        'local remote, or with those an HTTP server serves for the named refs (else for each ref\n' +
        'the summary lists).',
    )
    .action(async (remote: string, refs: string[], opts: Opts, cmd: Command) => {
      if (opts.check) {
        const c = await withRepo(cmd, (repo) =>
          checkSummary(repo, { remote, refs, ...transportOf(opts) }),
        );
        if (opts.json) printJson(c);
        else {
          print(`${c.state}: summary of remote ${remote} written ${new Date(c.timestamp * 1000).toISOString()}`);
          for (const r of c.refs.filter((x) => x.stale)) print(`  ${r.ref}: summary ${r.summary ? shortId(r.summary) : 'does not list it'}, server ${r.server ? shortId(r.server) : 'has no such ref'}`);
        }
        if (c.state === 'stale') {
          throw notFound(`summary of remote ${remote} is stale: ${c.refs.filter((x) => x.stale).length} ref(s) differ (run trove summary on the server)`, { remote });
        }
        return;
      }
      const r = await withRepo(cmd, (repo) =>
        withMeter(cmd, 'pull', (m) => pull(repo, {
          remote,
          refs,
          mirror: opts.mirror,
          deltas: opts.deltas,
          ...transportOf(opts),
          fsync: opts.fsync,
          allowDowngrade: opts.allowDowngrade,
          onProgress: m.onPull,
          onNotice: (n) => m.log(`trove: ${n}`),
        })),
      );
      detail(`pull: remote ${r.remote} at ${r.url}`);
      for (const d of r.deltas.used) detail(`pull: delta pack ${d} applied`);
      for (const d of r.deltas.failed) detail(`pull: delta pack ${d} failed; its objects were fetched one by one`);
      detail(
        `pull: ${r.fetched.objects} objects (${bytes(r.fetched.bytes)}) stored; ${r.transfer.requests} requests, ` +
          `${bytes(r.transfer.bytes)} received, ${r.transfer.retries} retries in ${r.seconds.toFixed(2)} s (${bytes(r.transfer.bytes / Math.max(r.seconds, 0.001))}/s)`,
      );
      if (opts.json) return printJson(r);
      for (const ref of r.refs) {
        const what = ref.previous === ref.commit ? 'up to date' : ref.previous ? `${shortId(ref.previous)}..${shortId(ref.commit)}` : `new ${shortId(ref.commit)}`;
        say(`${ref.local}: ${what}`);
      }
      const via = r.deltas.used.length ? ` via ${r.deltas.used.length} delta${r.deltas.used.length > 1 ? 's' : ''}` : '';
      say(
        `fetched ${r.fetched.objects} objects (${bytes(r.fetched.bytes)})${via}; ` +
          `${r.transfer.requests} requests, ${bytes(r.transfer.bytes)} received in ${r.seconds.toFixed(2)} s` +
          (r.transfer.retries ? `, ${r.transfer.retries} retries` : ''),
      );
      if (r.healed.length) say(`restored ${r.healed.length} object(s) recorded in quarantine/ as missing`);
    });
}
