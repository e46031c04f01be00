import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isTroveError, usage } from '../../util/errors.js';
import { type Change, diffStat, diffTrees } from '../../repo/diff.js';
import { treeOfDir } from '../../repo/dir-tree.js';
import { readCommit } from '../../repo/objects.js';
import { patchOf } from '../../repo/patch.js';
import type { Repo } from '../../repo/repo.js';
import type { GetStore } from '../../store/types.js';
import { resolveRevision } from '../../system/revisions.js';
import { print, printJson, withRepo } from '../context.js';
import { bytes, changeLine } from '../printers.js';

interface Opts {
  stat?: boolean;
  patch?: boolean;
  profile?: string;
  json?: boolean;
}

/** The operands after `--` on the command line (commander drops the `--` itself). */
function afterDashDash(cmd: Command): number {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as Command & { rawArgs: string[] }).rawArgs;
  const i = raw.indexOf('--');
  return i < 0 ? 0 : raw.length - i - 1;
}

const looksLikePath = (s: string) => s === '.' || s === '..' || /^(\/|\.\/|\.\.\/|~)/.test(s);

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** B as a tree: a revision's, or a directory's (a path, or a name that is no revision but a directory). */
async function newSide(repo: Repo, b: string, profile: string | undefined): Promise<{ tree: string; store: GetStore; dir?: string }> {
  if (!looksLikePath(b)) {
    try {
      return { tree: (await readCommit(repo.store, await resolveRevision(repo, b, profile))).tree, store: repo.store };
    } catch (err) {
      if (!(isTroveError(err, 'E_NOT_FOUND') && (await isDir(b)))) throw err;
    }
  } else if (!(await isDir(b))) throw usage(`${b} is not a directory`, { path: b });
  const t = await treeOfDir(b, repo.store);
  return { ...t, dir: b };
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('list paths added (A), removed (D) and modified (M) between two commits, or a commit and a directory')
    .argument('<a>', 'old revision')
    .argument('<b>', 'new revision, or a directory')
    .argument('[paths...]', 'after --: only these paths (and what is below them)')
    .option('-p, --patch', 'print a unified content diff (text files; "Binary files ... differ" for others)')
    .option('--stat', 'print only counts and byte totals')
    .option('--profile <p>', 'the profile whose generation numbers count (default: system)')
    .option('--json', 'print the result as JSON')
    .action(async (a: string, b: string, rest: string[], opts: Opts, cmd: Command) => {
      const nPaths = afterDashDash(cmd);
      // Everything after `--` is a path; before it, only A and B.
      if (rest.length > nPaths) throw usage(`diff takes two revisions (A B, or REV DIR); paths go after --: trove diff ${a} ${b} -- ${rest.join(' ')}`);
      const paths = rest;
      await withRepo(cmd, async (repo) => {
        const ca = await readCommit(repo.store, await resolveRevision(repo, a, opts.profile));
        const nb = await newSide(repo, b, opts.profile);
        const view: GetStore = nb.store;
        const changes = await diffTrees(view, ca.tree, nb.tree, { paths });
        const stat = diffStat(changes);
        if (opts.json) return printJson(opts.stat ? stat : { changes, stat });
        if (opts.patch && !opts.stat) {
          const read = (which: 'old' | 'new', c: Change) =>
            which === 'new' && nb.dir !== undefined ? readFile(join(nb.dir, c.path)) : repo.store.get((which === 'old' ? c.oldId : c.newId)!);
          for (const c of changes) for (const l of await patchOf(c, read)) print(l);
          return;
        }
        if (!opts.stat) for (const c of changes) print(changeLine(c));
        print(`${stat.added} added, ${stat.removed} removed, ${stat.modified} modified; +${bytes(stat.bytesAdded)} -${bytes(stat.bytesRemoved)}`);
      });
    });
}
