import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { writeSummary } from '../../remote/summary.js';
import { print, printJson, shortId, withRepo } from '../context.js';

export function register(program: Command): void {
  program
    .command('summary')
    .description('write <repo>/summary (refs, delta packs, time) so the repository directory can be served by any static web server')
    .option('--key <file>', 'sign it with this private key (writes summary.sig)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nRun it again after refs move or deltas are added; without --key a stale summary.sig is removed.')
    .action(async (opts: { key?: string; json?: boolean }, cmd: Command) => {
      const privateKeyPem = opts.key ? await readFile(opts.key, 'utf8') : undefined;
      const { summary, signed } = await withRepo(cmd, (repo) => writeSummary(repo, { privateKeyPem }));
      if (opts.json) return printJson({ ...summary, signed });
      for (const [name, id] of Object.entries(summary.refs)) print(`${id} ${name}`);
      for (const d of summary.deltas) print(`delta ${d.from ? shortId(d.from) : 'empty'} -> ${shortId(d.to)} (${d.size} bytes)`);
      print(`summary written: ${Object.keys(summary.refs).length} refs, ${summary.deltas.length} deltas${signed ? ', signed' : ''}`);
    });
}
