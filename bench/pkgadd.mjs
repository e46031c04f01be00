// Scenario group "pkgadd": every .deb of the corpus added to a new repository
// by one `trove pkg add` process, against `dpkg-deb -x` of each .deb, one after
// another, into one directory (the extraction a package manager does anyway).
// Same files, same filesystem, alternating which goes first in each run.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { BenchError, log, median, rmrf, run, syncDisk, timeCmd } from './lib.mjs';
import { ensureDebs } from './corpus.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'pkgadd';
export const title = 'Adding packages: trove pkg add of every corpus .deb in one process vs dpkg-deb -x of each';
export const requires = [['dpkg-deb', 'dpkg'], ['sh', 'dash']];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const TARGET = 1.0;

/** `dpkg-deb -x` of every file of the list, one after another, as one timed command. */
function dpkgAll(listFile, dest) {
  return ['sh', ['-c', 'while IFS= read -r f; do dpkg-deb -x "$f" "$1" || exit 1; done < "$2"', 'sh', dest, listFile]];
}

export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  const debs = ensureDebs(cache);
  const dir = join(cache, 'work-pkgadd');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const listFile = join(dir, 'debs.txt');
  run('sh', ['-c', 'cat > "$1"', 'sh', listFile], { input: `${debs.join('\n')}\n` });
  log(`pkgadd: ${debs.length} .deb files; warming the page cache with one untimed read`);
  run('sh', ['-c', 'xargs cat < "$1" | wc -c', 'sh', listFile]);
  const samples = { trove: [], dpkg: [] };
  const warnings = [];
  let report;
  try {
    for (let r = 0; r < runs; r++) {
      const order = r % 2 ? ['dpkg', 'trove'] : ['trove', 'dpkg'];
      log(`pkgadd: run ${r + 1} of ${runs} (${order.join(' first, then ')})`);
      for (const tool of order) {
        const repo = join(dir, 'repo');
        const dest = join(dir, 'x');
        rmrf(repo);
        rmrf(dest);
        if (tool === 'trove') {
          run(TROVE_JS, ['init', '--repo', repo]);
          syncDisk();
          const s = timeCmd(TROVE_JS, ['pkg', 'add', '--repo', repo, '--json', ...debs]);
          const added = JSON.parse(s.stdout);
          if (added.length !== debs.length) throw new BenchError(`pkg add reported ${added.length} packages for ${debs.length} .deb files`);
          report ??= {
            files: added.reduce((n, p) => n + p.report.files, 0),
            objects: added.reduce((n, p) => n + p.written.objects, 0),
          };
          samples.trove.push(s);
        } else {
          mkdirSync(dest);
          syncDisk();
          samples.dpkg.push(timeCmd(...dpkgAll(listFile, dest)));
        }
        rmrf(repo);
        rmrf(dest);
      }
    }
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    log(`pkgadd FAILED:\n${e.message}`);
    warnings.push(`the group stopped early: ${e.message.split('\n')[0]}`);
  } finally {
    rmrf(dir);
  }
  return { name, title, debs: debs.length, samples, warnings, report };
}

export function render(res) {
  const med = (xs) => median(xs.map((x) => x.seconds));
  const rss = (xs) => (xs.length ? (Math.max(...xs.map((x) => x.maxRssKiB)) / 1024).toFixed(0) : 'n/a');
  const a = med(res.samples.trove);
  const b = med(res.samples.dpkg);
  const ratio = a / b;
  const ok = Number.isFinite(ratio) ? (ratio <= TARGET ? 'pass' : `FAIL (${ratio.toFixed(2)}×)`) : 'n/a';
  const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const out = [`### ${res.title}`, ''];
  out.push(table(
    ['operation', 'trove median s', 'dpkg-deb -x median s', 'trove/dpkg-deb', 'trove peak RSS MB', 'target', 'result'],
    [[`pkg add of ${res.debs} .debs in one process`, f(a), f(b), Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a',
      rss(res.samples.trove), `≤ ${TARGET}× dpkg-deb -x`, ok]],
  ));
  out.push('');
  if (res.report) out.push(`- ${res.report.files} files; ${res.report.objects} new objects written.`);
  out.push(`- All samples (s), trove | dpkg-deb: ${res.samples.trove.map((x) => x.seconds.toFixed(3)).join(', ') || '—'} | ` +
    `${res.samples.dpkg.map((x) => x.seconds.toFixed(3)).join(', ') || '—'}`);
  for (const w of res.warnings) out.push(`- Warning: ${w}`);
  return out.join('\n');
}
