import type { Command } from 'commander';
import { gzipObjects, type GzipObjectsResult } from '../../remote/precompress.js';
import { readKeyFile } from '../../remote/sign-commit.js';
import { writeSummary } from '../../remote/summary.js';
import { parseDuration } from '../../system/generations/prune.js';
import { usage } from '../../util/errors.js';
import { print, printJson, say, withRepo } from '../context.js';
import { bytes, shortId } from '../printers.js';
import { summaryJson } from '../json.js';

export function register(program: Command): void {
  program
    .command('summary')
    .description('write <repo>/summary (refs, delta packs, time) so the repository directory can be served by any static web server')
    .option('--key <file>', 'sign it with this private key (writes summary.sig)')
    .option('--expires <duration>', 'clients refuse the summary this long after it is written (e.g. 7d; 0: never); rewrites keep the lifetime')
    .option('--gzip-objects', 'also write objects/ab/<id>.gz next to new objects, for servers with gzip_static (incremental)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nRun it again after refs move or deltas are added; without --key a stale summary.sig is removed.')
    .action(async (opts: { key?: string; expires?: string; gzipObjects?: boolean; json?: boolean }, cmd: Command) => {
      const expiresIn = opts.expires === undefined ? undefined : opts.expires.trim() === '0' ? 0 : parseDuration(opts.expires);
      if (expiresIn === 0 && opts.expires !== undefined && opts.expires.trim() !== '0') throw usage('--expires must be longer than 0 (or 0 for no expiry)');
      const privateKeyPem = opts.key ? await readKeyFile(opts.key, 'private key') : undefined;
      let gz: GzipObjectsResult | undefined;
      const { summary, signed } = await withRepo(cmd, async (repo) => {
        if (opts.gzipObjects) gz = await gzipObjects(repo);
        return writeSummary(repo, { privateKeyPem, expiresIn });
      });
      if (opts.json) return printJson({ ...summaryJson(summary), signed, ...(gz ? { gzipObjects: gz } : {}) });
      if (gz) {
        say(
          `gzip: ${gz.written} objects compressed (${bytes(gz.bytesIn)} -> ${bytes(gz.bytesOut)}), ` +
            `${gz.incompressible} incompressible, ${gz.removed} stale files removed`,
        );
      }
      for (const [name, id] of Object.entries(summary.refs)) print(`${id} ${name}`);
      for (const d of summary.deltas) print(`delta ${d.from ? shortId(d.from) : 'empty'} -> ${shortId(d.to)} (${d.size} bytes)`);
      const expiry = summary.expires === undefined ? '' : `, expires ${new Date(summary.expires * 1000).toISOString()}`;
      say(`summary written: ${Object.keys(summary.refs).length} refs, ${summary.deltas.length} deltas${signed ? ', signed' : ''}${expiry}`);
    });
}
