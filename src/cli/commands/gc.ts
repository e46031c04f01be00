import type { Command } from 'commander';
import { systemRoots } from '../../system/roots.js';
import { gc } from '../../repo/gc.js';
import { io, note, print, printJson, say, verbosity, withRepo } from '../context.js';
import { withMeter } from '../progress.js';
import { bytes } from '../printers.js';

export function register(program: Command): void {
  program
    .command('gc')
    .description('delete objects unreachable from refs, profile generations and active commits')
    .option('--dry-run', 'only report what would be freed')
    .option('--full', 'mark everything and list the store, whatever the count and the record of the last gc say')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nRuns under the exclusive repository lock (writers wait). Also removes checkouts of\n' +
        'commits no longer kept and unused checkout variants. Forget old generations first\n' +
        'with: trove gen prune --keep N\n\n' +
        'The store counts the objects it holds (the last full gc\'s count plus what writers\n' +
        'noted since, in objects-added); when that count equals the objects found reachable,\n' +
        'nothing can be garbage and gc does not list the store. A gc records what it marked\n' +
        '(gc-reach); the next one reads only the commits and trees that record does not cover.\n' +
        '--full lists the store and marks everything anyway.',
    )
    .action(async (opts: { dryRun?: boolean; full?: boolean; json?: boolean }, cmd: Command) => {
      const r = await withRepo(cmd, (repo) =>
        withMeter(cmd, 'gc', (m) => {
          const verb = opts.dryRun ? 'would remove' : 'remove';
          return gc(repo, {
            roots: systemRoots,
            dryRun: opts.dryRun,
            full: opts.full,
            onWait: () => note('waiting for writers to finish...'),
            onProgress: m.onProgress,
            // Under -v, each thing removed.
            onRemove: verbosity() > 0 ? (what, name, size) => m.log(`gc: ${verb} ${what} ${name}${what === 'checkout' ? '' : ` (${bytes(size)})`}`) : undefined,
          });
        }),
      );
      for (const u of r.undecodable) {
        io().stderr.write(`warning: kept ${u.kind} ${u.id}, which does not decode (${u.problem}), and whatever it may reference; run trove fsck\n`);
      }
      if (opts.json) return printJson(r);
      const d = r.deleted;
      const verb = r.dryRun ? 'would delete' : 'deleted';
      // A dry run's report is what was asked for; a real run's is a confirmation (not under -q).
      const out = r.dryRun ? print : say;
      out(`${verb} ${d.objects} objects (${d.commits} commits, ${d.trees} trees, ${d.blobs} blobs), ${bytes(d.bytes)}; kept ${r.kept}${r.listed ? '' : ' (by the store\'s count, not listed; --full lists it)'}`);
      out(`${verb} ${r.checkouts.length} checkouts and ${r.variants.files} unused variants (${bytes(r.variants.bytes)})`);
    });
}
