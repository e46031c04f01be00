// The two systems under test, as command builders and repository inspectors,
// so every scenario runs them the same way.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib.mjs';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// trove as its users run it: the bin as a command, so that its first line applies (it keeps
// NODE_EXTRA_CA_CERTS from Node's start, bin/trove.js). The groups that compare trove with other
// tools run it so; the group `startup` runs `node bin/trove.js` against `node -e 0`, one start each.
const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const REF = 'bench';

/** Lists loose objects as a Map of file name (below objects/xx/) to kind (its extension, or ''). */
function listObjects(repo) {
  const out = new Map();
  const objects = join(repo, 'objects');
  if (!existsSync(objects)) return out;
  for (const fan of readdirSync(objects)) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    for (const name of readdirSync(join(objects, fan))) {
      const dot = name.indexOf('.');
      out.set(fan + name, dot < 0 ? '' : name.slice(dot + 1));
    }
  }
  return out;
}

export const trove = {
  name: 'trove',
  init: (repo) => [TROVE_JS, ['init', '--repo', repo]],
  commit: (repo, dir) => [TROVE_JS, ['commit', dir, '--ref', REF, '-m', 'x', '--json', '--repo', repo]],
  checkout: (repo, dest, copy) =>
    [TROVE_JS, ['checkout', REF, dest, copy ? '--copy' : '--hardlink', '--repo', repo]],
  fsck: (repo) => [TROVE_JS, ['fsck', '--repo', repo]],
  /** Objects are objects/xx/<62 hex>; their kind is not in the name. */
  objects: (repo) => listObjects(repo),
  /** Blob ids are the SHA-256 of the content, so a content object is recognised by its id. */
  isContent: (id, _kind, contentIds) => contentIds.has(id),
  version() {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    const git = (args) => run('git', args, { cwd: REPO_ROOT, allowFail: true }).stdout.trim();
    const hash = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
    const dirty = git(['status', '--porcelain', '--', 'src', 'bin', 'package.json']) ? '-dirty' : '';
    return `${pkg.version} (git ${hash}${dirty})`;
  },
  available() {
    const r = run(TROVE_JS, ['--help'], { allowFail: true });
    return r.status === 0 ? null : `node bin/trove.js --help failed (exit ${r.status}):\n${r.stderr}`;
  },
};

export const ostree = {
  name: 'ostree',
  init: (repo) => ['ostree', [`--repo=${repo}`, 'init', '--mode=bare']],
  commit: (repo, dir) =>
    ['ostree', [`--repo=${repo}`, 'commit', `--branch=${REF}`, `--tree=dir=${dir}`, '--fsync=false', '-s', 'x']],
  checkout: (repo, dest, copy) => ['ostree', [`--repo=${repo}`, 'checkout', ...(copy ? ['-C'] : []), REF, dest]],
  fsck: (repo) => ['ostree', [`--repo=${repo}`, 'fsck']],
  /** Objects are objects/xx/<62 hex>.{file,dirtree,dirmeta,commit}. */
  objects: (repo) => listObjects(repo),
  /** In a bare repository, .file objects are content (regular files and symlinks). */
  isContent: (_id, kind) => kind === 'file',
  version() {
    const out = run('ostree', ['--version']).stdout;
    return /Version: '([^']+)'/.exec(out)?.[1] ?? out.trim().split('\n')[0];
  },
  available: () => null,
};

/** Counts the objects of `after` missing from `before`: total, content and by kind. */
export function newObjects(tool, before, after, contentIds) {
  const res = { total: 0, content: 0, other: 0, byKind: {} };
  for (const [id, kind] of after) {
    if (before.has(id)) continue;
    res.total++;
    if (tool.isContent(id, kind, contentIds)) res.content++;
    else res.other++;
    res.byKind[kind || 'object'] = (res.byKind[kind || 'object'] ?? 0) + 1;
  }
  return res;
}
