import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { addPackage, addPackages, expandSources } from '../../system/packages/add.js';
import { packageLabel } from '../../system/packages/model.js';
import { listPackages, packageHistory } from '../../system/packages/list.js';
import { remotePackageRows } from '../../remote/install-packages.js';
import { detail, io, print, printJson, say, withRepo } from '../context.js';
import { bytes, columns, shortId } from '../printers.js';
import { withMeter } from '../progress.js';
import { NO_UPDATE_SUMMARY, SUMMARY_HELP, SUMMARY_KEY, type SummaryOpts, summaryKeyOf, updateSummaryAfter } from '../summary-refresh.js';

interface AddOpts extends SummaryOpts {
  name?: string;
  arch?: string;
  version?: string;
  revision?: string;
  depends?: string;
  preDepends?: string;
  provides?: string;
  multiArch?: string;
  jobs?: string;
  json?: boolean;
}

const list = (v: string | undefined) => v?.split(',').map((d) => d.trim()).filter((d) => d !== '');

/** Options that describe one package, refused with several. */
const PER_PACKAGE = ['name', 'arch', 'version', 'revision', 'depends', 'preDepends', 'provides', 'multiArch'] as const;

/** `pkg add` of several .deb files: one process, one transaction, one progress bar. */
async function addMany(cmd: Command, sources: string[], opts: AddOpts, jobs: number | undefined): Promise<void> {
  const summaryKey = await summaryKeyOf(opts);
  const started = Date.now();
  const r = await withRepo(cmd, async (repo) => {
    const added = await withMeter(cmd, 'pkg add', (m) => addPackages(repo, sources, { jobs, onProgress: m.onProgress }));
    if (added.packages.some((p) => !p.unchanged)) await updateSummaryAfter(repo, opts, summaryKey);
    return added;
  });
  for (const p of r.packages) {
    detail(`pkg add: ${p.source}: ${p.report.files} files, ${bytes(p.report.bytesRead)} read; ${p.unchanged ? 'unchanged' : `revision ${p.info.revision} on ${p.ref}`}`);
  }
  detail(`pkg add: ${r.written.objects} new objects written (${bytes(r.written.bytes)}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  if (opts.json) return printJson(r.packages);
  let files = 0;
  for (const p of r.packages) {
    const label = packageLabel(p.info);
    files += p.report.files;
    if (p.unchanged) say(`${p.ref} unchanged at ${label} (${shortId(p.commit)})`);
    else say(`${p.ref} -> ${p.commit} (${label})`);
  }
  const changed = r.packages.filter((p) => !p.unchanged).length;
  say(
    `${r.packages.length} packages: ${changed} new revisions, ${r.packages.length - changed} unchanged; ` +
      `${files} files; wrote ${r.written.objects} new objects (${bytes(r.written.bytes)})`,
  );
}

function positiveInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw usage(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function register(program: Command): void {
  const pkg = program.command('pkg').description('add, list and show packages (commits on pkg/<name>/<arch>)');
  pkg
    .command('add')
    .description('commit packages from .deb files, directories of .deb files, a directory or a tar archive')
    .argument('<sources...>', 'Debian packages, directories of them, or one directory or tar archive')
    .option('--name <name>', 'package name (default: a .deb’s Package field; one source only)')
    .option('--arch <arch>', 'architecture (default: a .deb’s Architecture field; one source only)')
    .option('--version <version>', 'upstream version (default: a .deb’s Version field; one source only)')
    .option('--revision <n>', 'revision (default: previous + 1; must be higher than the previous one; one source only)')
    .option('--depends <list>', 'Depends clauses, comma-separated, e.g. "libc6 (>= 2.36), a | b" (default: a .deb’s; giving it drops a .deb’s Pre-Depends; one source only)')
    .option('--pre-depends <list>', 'Pre-Depends clauses, same form (default: a .deb’s; one source only)')
    .option('--provides <list>', 'Provides, comma-separated: NAME or "NAME (= VERSION)" (default: a .deb’s; one source only)')
    .option('--multi-arch <value>', 'Multi-Arch: same, foreign, allowed or no (default: a .deb’s; one source only)')
    .option('-j, --jobs <n>', 'packages imported at once (default: the number of CPUs, at least 2)')
    .option('--json', 'print the result as JSON (one source: an object; several: an array)')
    .addHelpText(
      'after',
      '\nAdding content and metadata identical to the tip makes no new commit or revision.\n' +
        'A directory that holds .deb files (at its top level) stands for those files; any\n' +
        'other directory is one package\'s tree. Several packages are added all or nothing.',
    )
    .option('--no-update-summary', NO_UPDATE_SUMMARY)
    .option('--summary-key <file>', SUMMARY_KEY)
    .addHelpText('after', SUMMARY_HELP)
    .action(async (args: string[], opts: AddOpts, cmd: Command) => {
      const jobs = opts.jobs === undefined ? undefined : positiveInt(opts.jobs, '--jobs');
      if (jobs === 0) throw usage('--jobs must be a positive integer, got "0"');
      const sources = await expandSources(args);
      const several = args.length > 1 || sources.some((s) => s.dir !== undefined);
      if (several) {
        const given = PER_PACKAGE.filter((o) => opts[o] !== undefined).map((o) => `--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        if (given.length > 0) {
          const why = args.length > 1 ? 'several sources are given' : `${args[0]} is a directory of .deb files`;
          throw usage(`${given.join(', ')} ${given.length > 1 ? 'apply' : 'applies'} to one package, but ${why}`);
        }
        return addMany(cmd, sources.map((s) => s.path), opts, jobs);
      }
      const summaryKey = await summaryKeyOf(opts);
      const started = Date.now();
      const r = await withRepo(cmd, async (repo) => {
        const added = await withMeter(cmd, 'pkg add', (m) => addPackage(repo, args[0]!, {
          name: opts.name,
          arch: opts.arch,
          version: opts.version,
          revision: opts.revision === undefined ? undefined : positiveInt(opts.revision, '--revision'),
          depends: list(opts.depends),
          preDepends: list(opts.preDepends),
          provides: list(opts.provides),
          multiArch: opts.multiArch,
          onProgress: m.onProgress,
        }));
        if (!added.unchanged) await updateSummaryAfter(repo, opts, summaryKey);
        return added;
      });
      detail(`pkg add: ${args[0]}: ${r.report.files} files, ${bytes(r.report.bytesRead)} read; ${r.unchanged ? 'unchanged' : `revision ${r.info.revision} on ${r.ref}`}`);
      detail(`pkg add: ${r.written.objects} new objects written (${bytes(r.written.bytes)}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
      if (opts.json) return printJson(r);
      for (const s of r.report.skipped) io().stderr.write(`skipped ${s.path} (${s.reason})\n`);
      const label = packageLabel(r.info);
      if (r.unchanged) say(`${r.ref} unchanged at ${label} (${shortId(r.commit)}); nothing written`);
      else say(`${r.ref} -> ${r.commit} (${label})`);
      say(`${r.report.files} files, ${r.report.dirs} dirs, ${r.report.symlinks} symlinks; wrote ${r.written.objects} new objects (${bytes(r.written.bytes)})`);
    });
  pkg
    .command('list')
    .description('list packages: the local ones (the tip of each pkg/<name>/<arch>), then those of every configured remote')
    .option('--remote <name>', 'only this remote’s packages, from its package index (read from the server now)')
    .option('--json', 'print packages as JSON')
    .addHelpText('after', '\nWithout --remote, remotes’ packages come from the package indexes cached by the last\ninstall or pkg list --remote (no network). The last column is where a package is;\n"stored" marks a remote’s package whose objects are here.')
    .action(async (opts: { remote?: string; json?: boolean }, cmd: Command) => {
      const { local, remote } = await withRepo(cmd, async (repo) => ({
        local: opts.remote === undefined ? (await listPackages(repo)).map((r) => ({ ...r, source: 'local' })) : [],
        remote: await remotePackageRows(repo, { remote: opts.remote }),
      }));
      if (opts.json) return printJson([...local, ...remote]);
      const rows = [
        ...local.map((r) => [r.info.name, r.info.arch, `${r.info.version}-${r.info.revision}`, shortId(r.commit), 'local']),
        ...remote.map((r) => [r.info.name, r.info.arch, `${r.info.version}-${r.info.revision}`, shortId(r.commit), r.source, bytes(r.bytes), ...(r.stored ? ['stored'] : [])]),
      ];
      for (const line of columns(rows)) print(line);
    });
  pkg
    .command('show')
    .description('show a package and its revisions')
    .argument('<name>', 'NAME or NAME/ARCH')
    .option('--json', 'print the package as JSON')
    .action(async (spec: string, opts: { json?: boolean }, cmd: Command) => {
      const [name, arch] = spec.split('/');
      const history = await withRepo(cmd, (repo) => packageHistory(repo, name!, arch));
      const tip = history[0]!;
      if (opts.json) return printJson({ ...tip, history: history.map((h) => ({ commit: h.commit, revision: h.info.revision, version: h.info.version, timestamp: h.timestamp })) });
      print(`package  ${tip.info.name}`);
      print(`arch     ${tip.info.arch}`);
      print(`version  ${tip.info.version}`);
      print(`revision ${tip.info.revision}`);
      print(`depends  ${tip.info.depends.join(', ') || '(none)'}`);
      if (tip.info.preDepends.length) print(`pre-depends ${tip.info.preDepends.join(', ')}`);
      if (tip.info.provides.length) print(`provides ${tip.info.provides.join(', ')}`);
      if (tip.info.multiArch) print(`multi-arch ${tip.info.multiArch}`);
      print(`ref      ${tip.ref}`);
      print(`commit   ${tip.commit}`);
      print(`tree     ${tip.tree}`);
      print('revisions:');
      for (const h of history) print(`  ${String(h.info.revision).padStart(4)}  ${h.info.version}  ${shortId(h.commit)}  ${new Date(h.timestamp * 1000).toISOString()}`);
    });
}
