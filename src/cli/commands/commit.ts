import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { commitSource } from '../../repo/commit.js';
import { detail, io, printJson, say, withRepoAt } from '../context.js';
import { type DirectCommand, registerDirect } from '../direct.js';
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

export const command: DirectCommand<Opts> = {
  name: 'commit',
  description: 'import a directory, tar archive (.tar/.tar.gz/.tar.xz/.tar.zst) or .deb and commit it on a ref',
  args: [{ syntax: '<source>', description: 'directory, tar archive or Debian package' }],
  options: [
    { flags: '-r, --ref <name>', description: 'ref to commit on (its current commit becomes the parent)', required: true },
    { flags: '-m, --message <subject>', description: 'commit subject' },
    { flags: '--body <text>', description: 'commit body' },
    { flags: '--meta <key=value>', description: 'metadata pair (repeatable)', repeats: true },
    { flags: '--no-xattrs', description: 'do not read extended attributes from a directory' },
    { flags: '--fsync', description: 'flush to disk once before the commit becomes visible' },
    { flags: '--json', description: 'print the result as JSON' },
    { flags: '--no-update-summary', description: NO_UPDATE_SUMMARY },
    { flags: '--summary-key <file>', description: SUMMARY_KEY },
  ],
  help:
    '\nMtimes are not stored. Device nodes, fifos and sockets are reported and skipped.\n' +
    'Unchanged files of a directory are not read again (stat cache in the index).\n' +
    SUMMARY_HELP,
  async run([source], opts, repoOption, globals) {
    const metadata: Record<string, string> = {};
    for (const kv of opts.meta) {
      const i = kv.indexOf('=');
      if (i <= 0) throw usage(`--meta expects key=value, got ${JSON.stringify(kv)}`);
      metadata[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const summaryKey = await summaryKeyOf(opts);
    const started = Date.now();
    const r = await withRepoAt(repoOption, async (repo) => {
      const done = await withMeter({ ...globals, ...opts }, 'commit', (m) =>
        commitSource(repo, source!, {
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
  },
};

export function register(program: Command): void {
  registerDirect(program, command);
}
