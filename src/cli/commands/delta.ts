import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { resolveRevision } from '../../system/revisions.js';
import { writeDelta } from '../../remote/delta.js';
import { disownAutoDelta } from '../../remote/auto-delta.js';
import { deltaName } from '../../remote/layout.js';
import { detail, printJson, say, withRepo } from '../context.js';
import { withMeter } from '../progress.js';
import { bytes } from '../printers.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from '../summary-refresh.js';

interface Opts extends SummaryOpts {
  fromEmpty?: string;
  compression?: string;
  level: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('delta')
    .description('write a delta pack (deltas/<from>-<to>): every object reachable from TO and not from FROM, compressed, one request to pull')
    .argument('[from]', 'commit the puller already has')
    .argument('[to]', 'commit the puller wants')
    .option('--from-empty <to>', 'a pack of everything reachable from TO (for first pulls)')
    .option('--compression <kind>', 'xz or gzip (default: xz for 64 KiB to 256 MiB of objects, else gzip)')
    .option('--level <n>', 'compression level 1-9', '6')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nAn existing summary is rewritten afterwards, so pullers see the new pack.')
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (fromArg: string | undefined, toArg: string | undefined, opts: Opts, cmd: Command) => {
      if (opts.fromEmpty ? fromArg !== undefined : fromArg === undefined || toArg === undefined) {
        throw usage('usage: trove delta FROM TO, or trove delta --from-empty TO');
      }
      const level = Number(opts.level);
      if (!Number.isInteger(level) || level < 1 || level > 9) throw usage('--level must be 1..9');
      const compression = opts.compression;
      if (compression !== undefined && compression !== 'xz' && compression !== 'gzip') throw usage('--compression must be xz or gzip');
      const summaryKey = await summaryKeyOf(opts);
      const r = await withRepo(cmd, async (repo) => {
        const to = await resolveRevision(repo, opts.fromEmpty ?? toArg!);
        const from = opts.fromEmpty ? null : await resolveRevision(repo, fromArg!);
        if (from === to) throw usage(`${fromArg} and ${toArg} are the same commit (${to.slice(0, 12)}): a pull from it to itself needs nothing, so there is no delta to write`, { id: to });
        const started = Date.now();
        const written = await withMeter(cmd, 'delta', (m) => writeDelta(repo, from, to, { level, compression, onProgress: m.onProgress }));
        // Written here: the summary never removes it, though it may once have written a pack of this name itself.
        await disownAutoDelta(repo, deltaName(from, to));
        detail(`delta: from ${from ?? 'nothing'} to ${to}: ${written.objects} objects (${bytes(written.bytes)}) packed into ${bytes(written.size)} with ${written.compression} level ${level} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
        await updateSummaryAfter(repo, opts, summaryKey);
        return written;
      });
      if (opts.json) return printJson(r);
      say(`${r.path}: ${r.objects} objects, ${bytes(r.bytes)} -> ${bytes(r.size)} (${r.compression})`);
    });
}
