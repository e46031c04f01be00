import type { Command } from 'commander';
import { nearest } from '../../util/suggest.js';
import { usage } from '../../util/errors.js';
import type { Commit } from '../../format/types.js';
import { firstParentLog } from '../../repo/log.js';
import { defaultRevision, resolveRevision } from '../../system/revisions.js';
import { print, printJson, withRepo } from '../context.js';
import { shortId } from '../printers.js';

/** A non-negative decimal count; anything else is a usage error. */
function count(v: string, what: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw usage(`${what}: expected a number of commits (0 or more), got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The `--format` placeholders (docs/cli.md lists the same). */
const FIELDS: Record<string, (id: string, c: Commit) => string> = {
  H: (id) => id,
  h: (id) => shortId(id),
  T: (_, c) => c.tree,
  t: (_, c) => shortId(c.tree),
  P: (_, c) => c.parents.join(' '),
  p: (_, c) => c.parents.map(shortId).join(' '),
  s: (_, c) => c.subject,
  b: (_, c) => c.body,
  ad: (_, c) => new Date(c.timestamp * 1000).toISOString(),
  at: (_, c) => String(c.timestamp),
  n: () => '\n',
  '%': () => '%',
  '(package)': (_, c) => (c.package ? `${c.package.name} ${c.package.arch} ${c.package.version} r${c.package.revision}` : ''),
  '(profile)': (_, c) => c.generation?.profile ?? '',
};
const PLACEHOLDER = /%(\(package\)|\(profile\)|ad|at|[HhTtPpsbn%])/y;

/** Compiles a `--format` string; an unknown placeholder is a usage error naming the known ones. */
function compile(format: string): (id: string, c: Commit) => string {
  const parts: ((id: string, c: Commit) => string)[] = [];
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      const lit = format.slice(i);
      parts.push(() => lit);
      break;
    }
    const lit = format.slice(i, pct);
    if (lit) parts.push(() => lit);
    PLACEHOLDER.lastIndex = pct;
    const m = PLACEHOLDER.exec(format);
    if (!m) {
      throw usage(`--format: unknown placeholder at ${JSON.stringify(format.slice(pct, pct + 10))} (known: ${Object.keys(FIELDS).map((k) => `%${k}`).join(' ')})`);
    }
    parts.push(FIELDS[m[1]!]!);
    i = pct + m[0].length;
  }
  return (id, c) => parts.map((p) => p(id, c)).join('');
}

interface Opts {
  maxCount?: string;
  oneline?: boolean;
  format?: string;
  profile?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('log')
    .description('show first-parent history, newest first')
    .argument('[rev]', 'revision (default: the active generation, else the only ref)')
    .option('-n, --max-count <n>', 'show at most n commits (also -N, e.g. -1)')
    .option('--oneline', 'one line per commit: short id and subject')
    .option('--format <fmt>', 'print each commit by a format (%H %h %T %t %P %p %s %b %ad %at %n %% %(package) %(profile))')
    .option('--profile <p>', 'the profile whose generation numbers and active commit count (default: system)')
    .option('--json', 'print commits as JSON')
    // `-N` is not a commander option: it comes through as an unknown one.
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_rev: string | undefined, opts: Opts, cmd: Command) => {
      let limit = opts.maxCount === undefined ? undefined : count(opts.maxCount, '-n/--max-count');
      const revs: string[] = [];
      for (const a of cmd.args) {
        if (/^-\d+$/.test(a)) limit = count(a.slice(1), a);
        else if (a.startsWith('-')) {
          // As commander does: a suggestion for a long option only.
          const near = a.startsWith('--') ? nearest(a, cmd.options.flatMap((o) => (o.long === undefined ? [] : [o.long]))) : undefined;
          throw usage(`unknown option '${a}'${near ? ` (did you mean ${near}?)` : ''}`);
        }
        else revs.push(a);
      }
      if (revs.length > 1) throw usage(`log takes one revision, got ${revs.length}: ${revs.join(' ')}`);
      const render = opts.format !== undefined ? compile(opts.format) : opts.oneline ? (id: string, c: Commit) => `${shortId(id)} ${c.subject || '(no subject)'}` : undefined;
      await withRepo(cmd, async (repo) => {
        const start = revs[0] !== undefined ? await resolveRevision(repo, revs[0], opts.profile) : (await defaultRevision(repo, opts.profile)).id;
        const entries = await firstParentLog(repo.store, start, limit);
        if (opts.json) return printJson(entries.map((e) => ({ commit: e.id, ...e.commit })));
        if (render) {
          for (const e of entries) print(render(e.id, e.commit));
          return;
        }
        for (const e of entries) {
          print(`commit ${e.id}`);
          print(`Date:   ${new Date(e.commit.timestamp * 1000).toISOString()}`);
          if (e.commit.package) print(`Package: ${e.commit.package.name} ${e.commit.package.arch} ${e.commit.package.version} r${e.commit.package.revision}`);
          print('');
          print(`    ${e.commit.subject || '(no subject)'}`);
          if (e.commit.body) for (const l of e.commit.body.split('\n')) print(`    ${l}`);
          if (e.parentMissing) print(`    (parent ${e.commit.parents[0]} is not in this repository)`);
          print('');
        }
      });
    });
}
