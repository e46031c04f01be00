import type { Command } from 'commander';
import { gzipObjects, type GzipObjectsResult } from '../../remote/precompress.js';
import { readKeyFile } from '../../remote/sign-commit.js';
import { writeSummary } from '../../remote/summary.js';
import { parseDuration } from '../../system/generations/prune.js';
import { usage } from '../../util/errors.js';
import { print, printJson, say, withRepo } from '../context.js';
import { bytes, shortId } from '../printers.js';
import { summaryJson } from '../json.js';
import { AUTO_DELTA_DEPTH } from '../../remote/auto-delta.js';
import { warnAutoDeltas } from '../summary-refresh.js';

export function register(program: Command): void {
  program
    .command('summary')
    .description('write <repo>/summary (refs, delta packs, time) so the repository directory can be served by any static web server')
    .option('--key <file>', 'sign it with this private key (writes summary.sig)')
    .option('--expires <duration>', 'clients refuse the summary this long after it is written (e.g. 7d; 0: never); rewrites keep the lifetime')
    .option('--gzip-objects', 'also write objects/ab/<id>.gz next to new objects, for servers with gzip_static (incremental)')
    .option('--no-deltas', 'do not write delta packs for the tips that moved since the summary before')
    .option('--no-trees-packs', "give no trees packs for the heads' tips (clients' first pulls then fetch commits and trees one by one)")
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nRun it again after refs move or deltas are added; without --key a stale summary.sig is removed.\n\n' +
        'Delta packs by default: when a head (other than pkg/...) or the newest published generation\n' +
        'of a profile has moved since the summary before, a pack to it from its previous tip (and\n' +
        `from up to ${AUTO_DELTA_DEPTH} earlier ones) is written first, so clients that pulled one of them fetch one\n` +
        'pack of what changed. Packs written this way to a tip that has moved on are removed;\n' +
        'packs written by trove delta are never removed. Commands that rewrite the summary\n' +
        '(commit, pkg add, gen build, delta) do the same.\n\n' +
        'Trees packs: with package refs, the package index (packages/<id>) and, for each package\n' +
        'it lists, for the newest published generation and for the tip of each head but pkg/...,\n' +
        'packages/<commit>.trees (the commit and its trees, no files), so that clients learn a\n' +
        'package, a system or a first pull\'s tree in one request.',
    )
    .action(async (opts: { key?: string; expires?: string; gzipObjects?: boolean; deltas: boolean; treesPacks: boolean; json?: boolean }, cmd: Command) => {
      const expiresIn = opts.expires === undefined ? undefined : opts.expires.trim() === '0' ? 0 : parseDuration(opts.expires);
      if (expiresIn === 0 && opts.expires !== undefined && opts.expires.trim() !== '0') throw usage('--expires must be longer than 0 (or 0 for no expiry)');
      const privateKeyPem = opts.key ? await readKeyFile(opts.key, 'private key') : undefined;
      let gz: GzipObjectsResult | undefined;
      const { summary, signed, autoDeltas } = await withRepo(cmd, async (repo) => {
        if (opts.gzipObjects) gz = await gzipObjects(repo);
        return writeSummary(repo, { privateKeyPem, expiresIn, deltas: opts.deltas, treesPacks: opts.treesPacks });
      });
      warnAutoDeltas(autoDeltas);
      if (opts.json) return printJson({ ...summaryJson(summary), signed, ...(gz ? { gzipObjects: gz } : {}), ...(autoDeltas ? { autoDeltas } : {}) });
      for (const d of autoDeltas?.written ?? []) say(`delta pack written: ${shortId(d.from)} -> ${shortId(d.to)}`);
      for (const name of autoDeltas?.removed ?? []) say(`delta pack removed (its tip moved on): ${name}`);
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
