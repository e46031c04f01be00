import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { commitSource } from '../../repo/commit.js';
import { detail, io, printJson, say, withRepo } from '../context.js';
import { withMeter } from '../progress.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from '../summary-refresh.js';
import { bytes, shortId } from '../printers.js';

interface Opts extends SummaryOpts {
  ref: string;
  message?: string;
  body?: string;
  meta: string[];
  xattrs: boolean;
  fsync?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('commit')
    .description('import a directory, tar archive (.tar/.tar.gz/.tar.xz/.tar.zst) or .deb and commit it on a ref')
    .argument('<source>', 'directory, tar archive or Debian package')
    .requiredOption('-r, --ref <name>', 'ref to commit on (its current commit becomes the parent)')
    .option('-m, --message <subject>', 'commit subject')
    .option('--body <text>', 'commit body')
    .option('--meta <key=value>', 'metadata pair (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--no-xattrs', 'do not read extended attributes from a directory')
    .option('--fsync', 'flush to disk once before the commit becomes visible')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nMtimes are not stored. Device nodes, fifos and sockets are reported and skipped.\n' +
        'Unchanged files of a directory are not read again (stat cache in the index).',
    )
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (source: string, opts: Opts, cmd: Command) => {
      const metadata: Record<string, string> = {};
      for (const kv of opts.meta) {
        const i = kv.indexOf('=');
        if (i <= 0) throw usage(`--meta expects key=value, got ${JSON.stringify(kv)}`);
        metadata[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const summaryKey = await summaryKeyOf(opts);
      const started = Date.now();
      const r = await withRepo(cmd, async (repo) => {
        const done = await withMeter(cmd, 'commit', (m) =>
          commitSource(repo, source, {
            ref: opts.ref,
            subject: opts.message,
            body: opts.body,
            metadata,
            xattrs: opts.xattrs,
            sync: opts.fsync,
            onProgress: m.onProgress,
          }),
        );
        await updateSummaryAfter(repo, opts, summaryKey);
        return done;
      });
      const rep = r.report;
      detail(`commit: ${source} is a ${r.kind === 'dir' ? 'directory' : r.kind === 'deb' ? 'Debian package' : 'tar archive'}; stat cache ${r.kind !== 'dir' ? 'not used' : r.statCache ? 'used' : 'unavailable (index busy)'}`);
      detail(`commit: ${rep.files} files, ${rep.dirs} dirs, ${rep.symlinks} symlinks; ${bytes(rep.bytesRead)} read; ${rep.cached} files unchanged (stat cache); ${rep.skipped.length} skipped`);
      detail(`commit: ${r.written.objects} new objects written (${bytes(r.written.bytes)}); tree ${r.tree}; parent ${r.parent ?? 'none'}; ${((Date.now() - started) / 1000).toFixed(2)} s`);
      if (opts.json) return printJson(r);
      for (const s of rep.skipped) io().stderr.write(`skipped ${s.path} (${s.reason})\n`);
      say(`${opts.ref} -> ${r.commit}`);
      say(
        `${rep.files} files, ${rep.dirs} dirs, ${rep.symlinks} symlinks; read ${bytes(rep.bytesRead)}` +
          (rep.cached ? `, ${rep.cached} files unchanged (stat cache)` : '') +
          `; wrote ${r.written.objects} new objects (${bytes(r.written.bytes)})` +
          (r.parent ? `; parent ${shortId(r.parent)}` : ''),
      );
    });
}
