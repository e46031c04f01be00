import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommit, encodeCommit, encodeTree } from '../src/format/codec.js';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import type { Commit, TreeEntry } from '../src/format/types.js';
import { hashBytes, type ObjectId } from '../src/util/hash.js';
import { encodeSummary, parseSummary, type Summary, SUMMARY_FORMAT } from '../src/remote/summary.js';
import { formatSignatures, parsePrivateKey, signBytes } from '../src/remote/sign.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';

/** Writes `bytes` as an object file of the repository at `repo` (as a crafted server would); returns its id. */
function putObject(repo: string, bytes: Uint8Array): ObjectId {
  const id = hashBytes(bytes);
  mkdirSync(join(repo, 'objects', id.slice(0, 2)), { recursive: true });
  writeFileSync(join(repo, 'objects', id.slice(0, 2), id.slice(2)), bytes);
  return id;
}

const entry = (name: string, kind: TreeEntry['kind'], id: ObjectId, size = 0): TreeEntry => ({
  name,
  kind,
  id,
  mode: kind === 'dir' ? 0o755 : 0o644,
  uid: 0,
  gid: 0,
  size,
  xattrs: [],
});

function tree(repo: string, entries: TreeEntry[]): ObjectId {
  return putObject(repo, encodeTree({ entries }));
}

function commit(repo: string, treeId: ObjectId, parents: ObjectId[] = [], subject = 'crafted'): ObjectId {
  const c: Commit = { tree: treeId, root: DEFAULT_DIR_META, parents, timestamp: 1_700_000_000, subject, body: '', metadata: [] };
  return putObject(repo, encodeCommit(c));
}

/** Makes the crafted server list exactly `refs` (written as files and in an unsigned summary). */
function serve(server: string, refs: Record<string, ObjectId>): void {
  writeFileSync(join(server, 'summary'), encodeSummary({ format: SUMMARY_FORMAT, timestamp: Math.floor(Date.now() / 1000), refs, deltas: [] }));
}

/** Every file under refs/, by path, with its content. */
function refFiles(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(repo, 'refs'), { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[relative(join(repo, 'refs'), join(e.parentPath, e.name))] = readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

const objectFile = (repo: string, id: ObjectId): Buffer => readFileSync(join(repo, 'objects', id.slice(0, 2), id.slice(2)));

describe('kind confusion from a remote (issue 14 item 9)', () => {
  const base = tmpdir('trove-sec-server');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const src = join(base, 'src');
  let nginx: Nginx;
  /** Objects the client has: a blob, the tree holding it, its commit. */
  let blob: ObjectId;
  let blobSize: number;
  let clientTree: ObjectId;
  let clientCommit: ObjectId;

  beforeAll(async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'payload'), 'the client has this blob\n');
    blobSize = readFileSync(join(src, 'payload')).length;
    await troveOk(client, 'init');
    await troveOk(client, 'commit', src, '-r', 'main');
    blob = hashBytes(readFileSync(join(src, 'payload')));
    clientCommit = readFileSync(join(client, 'refs', 'heads', 'main'), 'utf8').trim();
    clientTree = decodeCommit(objectFile(client, clientCommit)).tree;
    await troveOk(server, 'init');
    nginx = await startNginx(server);
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('setup: the client has the blob, tree and commit the crafted server names', async () => {
    const ids = objectIds(client);
    expect(ids.has(blob) && ids.has(clientTree) && ids.has(clientCommit)).toBe(true);
  });

  it('refuses every reference to a stored object under another kind or size, moves no ref, and gc still works', async () => {
    const okTree = tree(server, []);
    const cases: Record<string, () => ObjectId> = {
      // A directory entry naming a blob the client has.
      'dir-is-blob': () => commit(server, tree(server, [entry('d', 'dir', blob)])),
      // Deeper: the confusion below a directory the client lacks.
      'nested-dir-is-blob': () => commit(server, tree(server, [entry('a', 'dir', tree(server, [entry('b', 'dir', blob)]))])),
      // A commit whose tree is a stored blob, and one whose tree is a stored commit.
      'commit-tree-is-blob': () => commit(server, blob),
      'commit-tree-is-commit': () => commit(server, clientCommit),
      // A parent that is a stored tree.
      'parent-is-tree': () => commit(server, okTree, [clientTree]),
      // The ref itself naming a stored tree or blob.
      'tip-is-tree': () => clientTree,
      'tip-is-blob': () => blob,
      // A file entry naming a stored blob with another size.
      'file-size-differs': () => commit(server, tree(server, [entry('f', 'file', blob, blobSize + 1000)])),
    };
    for (const [name, make] of Object.entries(cases)) {
      serve(server, { [`evil/${name}`]: make() });
      const before = objectIds(client);
      const refsBefore = refFiles(client);
      const r = await trove(['--repo', client, 'pull', 'origin', `evil/${name}`, '--retries', '0']);
      expect({ name, code: r.code }).toEqual({ name, code: 5 });
      expect(r.stderr).toMatch(/is not a (tree|commit)|of \d+ bytes, but the stored object/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(refFiles(client)).toEqual(refsBefore);
      // Nothing was stored: the objects naming the confused one are installed only after it.
      expect([...objectIds(client)].filter((id) => !before.has(id))).toEqual([]);
      const gc = await trove(['--repo', client, 'gc']);
      expect({ name, code: gc.code, stderr: gc.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect((await trove(['--repo', client, 'fsck'])).code).toBe(0);
    }
    expect(objectIds(client).has(blob)).toBe(true);
  });

  it('an honest pull of a tree that shares a stored blob, as a file of its size, still works', async () => {
    const t = tree(server, [entry('same', 'file', blob, blobSize), entry('sub', 'dir', clientTree)]);
    const c = commit(server, t, [clientCommit]);
    serve(server, { good: c });
    await troveOk(client, 'pull', 'origin', 'good');
    expect((await troveOk(client, 'cat', 'origin/good:same')).toString()).toBe('the client has this blob\n');
  });
});

describe('gc on a reachable object that does not decode as what references it', () => {
  const base = tmpdir('trove-sec-gc');
  const repo = join(base, 'repo');

  it('reports it, keeps it and everything it may reference, deletes the rest, and exits 0 every time', async () => {
    await troveOk(repo, 'init');
    const blob = putObject(repo, Buffer.from('a blob named as a directory\n'));
    // A commit named as a directory: what it references cannot be told from the tree, so it all stays.
    const hiddenBlob = putObject(repo, Buffer.from('only the hidden commit references this\n'));
    const hiddenTree = tree(repo, [entry('x', 'file', hiddenBlob, 39)]);
    const hiddenCommit = commit(repo, hiddenTree, [], 'hidden');
    // A rotted tree: its bytes no longer hash to its id.
    const rottedChild = putObject(repo, Buffer.from('below a rotted tree\n'));
    const rotted = tree(repo, [entry('y', 'file', rottedChild, 20)]);
    const top = tree(repo, [entry('blob-as-dir', 'dir', blob), entry('commit-as-dir', 'dir', hiddenCommit), entry('rotted', 'dir', rotted)]);
    const tip = commit(repo, top);
    const garbage = putObject(repo, Buffer.from('nothing references this\n'));
    await troveOk(repo, 'refs', 'set', 'main', tip);
    const rottedPath = join(repo, 'objects', rotted.slice(0, 2), rotted.slice(2));
    const bytes = readFileSync(rottedPath);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(rottedPath, bytes);

    for (const round of [1, 2]) {
      const r = await trove(['--repo', repo, 'gc', '--json']);
      expect({ round, code: r.code }).toEqual({ round, code: 0 });
      const report = JSON.parse(r.stdout) as { undecodable: { id: string; kind: string }[]; deleted: { objects: number } };
      expect(report.undecodable.map((u) => `${u.kind} ${u.id}`).sort()).toEqual([`tree ${blob}`, `tree ${hiddenCommit}`, `tree ${rotted}`].sort());
      expect(report.deleted.objects).toBe(round === 1 ? 1 : 0);
      for (const u of report.undecodable) expect(r.stderr).toContain(`warning: kept tree ${u.id}`);
      const ids = objectIds(repo);
      for (const id of [blob, hiddenBlob, hiddenTree, hiddenCommit, rotted, rottedChild, top, tip]) expect(ids.has(id)).toBe(true);
      expect(ids.has(garbage)).toBe(false);
    }
    // fsck still reports the damage gc stepped around.
    expect((await trove(['--repo', repo, 'fsck'])).code).toBe(5);
  });
});

describe('a summary whose refs cannot all be written (issue 14 item 11)', () => {
  const base = tmpdir('trove-sec-refs');
  const server = join(base, 'server');
  const client = join(base, 'client');
  let nginx: Nginx;
  const commits: ObjectId[] = [];

  beforeAll(async () => {
    await troveOk(server, 'init');
    for (let i = 0; i < 4; i++) commits.push(commit(server, tree(server, [entry(`f${i}`, 'file', putObject(server, Buffer.from(`file ${i}\n`)), 7)]), [], `c${i}`));
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  /** A pull of everything the summary lists, expected to be refused with exit 6 before anything is fetched. */
  async function refused(refs: Record<string, ObjectId>, args: string[] = []): Promise<void> {
    serve(server, refs);
    const before = objectIds(client);
    const refsBefore = refFiles(client);
    const r = await trove(['--repo', client, 'pull', 'origin', ...args, '--retries', '0']);
    expect({ refs, code: r.code }).toEqual({ refs, code: 6 });
    expect(r.stderr).toMatch(/cannot both exist|cannot create ref/);
    expect(refFiles(client)).toEqual(refsBefore);
    expect(objectIds(client)).toEqual(before);
  }

  it('refuses refs that clash with each other, moving none and fetching nothing', async () => {
    await refused({ ok: commits[0]!, 'ok/sub': commits[1]! });
    await refused({ a: commits[0]!, 'a/b/c': commits[1]!, z: commits[2]! });
    await refused({ 'x/y': commits[0]!, 'x/y/z': commits[1]!, x1: commits[2]! });
  });

  it('refuses refs that clash with the refs the client has, moving none and fetching nothing', async () => {
    serve(server, { ok: commits[0]! });
    await troveOk(client, 'pull', 'origin');
    expect(refFiles(client)['remotes/origin/ok']).toBe(`${commits[0]}\n`);
    // Server-side, `ok` is now a directory of refs; the client still has `origin/ok`.
    await refused({ 'ok/sub': commits[1]!, other: commits[2]! });
    // Mirroring into refs/heads: a local `main` and a remote `main/x`.
    await troveOk(client, 'refs', 'set', 'main', commits[0]!);
    await refused({ 'main/x': commits[3]!, other: commits[2]! }, ['--mirror']);
  });
});

describe('replayed, expired and backward summaries from a signed remote (issue 14 item 4)', () => {
  const base = tmpdir('trove-sec-replay');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const src = join(base, 'src');
  const key = join(base, 'key.pem');
  let nginx: Nginx;
  const c: ObjectId[] = [];
  const now = () => Math.floor(Date.now() / 1000);
  const main = () => refFiles(client)['remotes/origin/main'];

  /** Writes a summary listing `main` at `commit`, signed with the remote's key, as a server or mirror in the middle could serve it. */
  function signedSummary(fields: Partial<Summary> & { main: ObjectId }): Uint8Array {
    const { main: commitId, ...rest } = fields;
    const bytes = encodeSummary({ format: SUMMARY_FORMAT, timestamp: now(), refs: { main: commitId }, deltas: [], ...rest });
    writeFileSync(join(server, 'summary'), bytes);
    writeFileSync(join(server, 'summary.sig'), formatSignatures([signBytes(parsePrivateKey(readFileSync(key, 'utf8')), bytes)]));
    return bytes;
  }

  /** A pull refused with exit 5 and `pattern`, leaving refs, objects and the accepted summary as they were. */
  async function refused(pattern: RegExp, args: string[] = []): Promise<void> {
    const before = { refs: refFiles(client), objects: objectIds(client), accepted: readFileSync(join(client, 'remotes', 'origin', 'summary'), 'utf8') };
    const r = await trove(['--repo', client, 'pull', 'origin', ...args, '--retries', '0']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 5, stderr: expect.stringMatching(pattern) });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect({ refs: refFiles(client), accepted: readFileSync(join(client, 'remotes', 'origin', 'summary'), 'utf8') }).toEqual({ refs: before.refs, accepted: before.accepted });
    if (!pattern.source.includes('descend')) expect(objectIds(client)).toEqual(before.objects);
  }

  beforeAll(async () => {
    mkdirSync(src);
    await troveOk(server, 'init');
    await troveOk(server, 'keygen', '--out', key);
    // c0 <- c1 <- c2 on main, and c3 on a history of its own.
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(src, 'version'), `${i}\n`);
      await troveOk(server, 'commit', src, '-r', 'main', '-m', `v${i}`);
      c.push(readFileSync(join(server, 'refs', 'heads', 'main'), 'utf8').trim());
    }
    writeFileSync(join(src, 'version'), 'other\n');
    await troveOk(server, 'commit', src, '-r', 'other', '-m', 'other');
    c.push(readFileSync(join(server, 'refs', 'heads', 'other'), 'utf8').trim());
    for (const id of c) await troveOk(server, 'sign', id, '--key', key);
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => nginx?.stop());

  it('summary --expires signs an expiry that rewrites keep, and a client accepts it while it holds', async () => {
    await troveOk(server, 'summary', '--key', key, '--expires', '2d');
    const s = parseSummary(readFileSync(join(server, 'summary')));
    expect(s.expires).toBe(s.timestamp + 2 * 86400);
    // A command that moves a ref rewrites the summary with the same lifetime.
    await troveOk(server, 'commit', src, '-r', 'tmp', '--summary-key', key);
    const again = parseSummary(readFileSync(join(server, 'summary')));
    expect(again.expires! - again.timestamp).toBe(2 * 86400);
    await troveOk(client, 'pull', 'origin', 'main');
    expect(main()).toBe(`${c[2]}\n`);
    expect(parseSummary(readFileSync(join(client, 'remotes', 'origin', 'summary'))).timestamp).toBe(parseSummary(readFileSync(join(server, 'summary'))).timestamp);
    expect((await trove(['--repo', server, 'summary', '--expires', 'soon'])).code).toBe(2);
  });

  it('refuses an expired summary, even one validly signed', async () => {
    signedSummary({ main: c[2]!, timestamp: now() - 100, expires: now() - 10 });
    await refused(/refused: the summary of remote origin expired at/);
    // install and upgrade read the summary the same way.
    const install = await trove(['--repo', client, 'install', '--remote', 'origin', 'hello', '--dry-run']);
    expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 5, stderr: expect.stringMatching(/refused: the summary of remote origin expired/) });
    const upgrade = await trove(['--repo', client, 'upgrade', '--remote', 'origin', '--dry-run']);
    expect({ code: upgrade.code, stderr: upgrade.stderr }).toEqual({ code: 5, stderr: expect.stringMatching(/refused: the summary of remote origin expired/) });
  });

  it('refuses a replayed summary older than the last one accepted, unless --allow-downgrade', async () => {
    const accepted = parseSummary(readFileSync(join(client, 'remotes', 'origin', 'summary'))).timestamp;
    // The summary that listed c1, replayed: validly signed, older.
    signedSummary({ main: c[1]!, timestamp: accepted - 3600 });
    await refused(/refused: the summary of remote origin was written .* before the one accepted from it already .*--allow-downgrade/);
    for (const cmd of [['install', '--remote', 'origin', 'hello', '--dry-run'], ['upgrade', '--remote', 'origin', '--dry-run']]) {
      const r = await trove(['--repo', client, ...cmd]);
      expect({ cmd, code: r.code, stderr: r.stderr }).toEqual({ cmd, code: 5, stderr: expect.stringMatching(/before the one accepted from it already/) });
    }
    // Just as new is accepted (the same summary fetched again).
    signedSummary({ main: c[2]!, timestamp: accepted });
    await troveOk(client, 'pull', 'origin', 'main');
    // The owner of the client accepts the old one on purpose: the ref goes back, and that summary is now the one accepted.
    signedSummary({ main: c[1]!, timestamp: accepted - 3600 });
    await troveOk(client, 'pull', 'origin', '--allow-downgrade');
    expect(main()).toBe(`${c[1]}\n`);
    expect(parseSummary(readFileSync(join(client, 'remotes', 'origin', 'summary'))).timestamp).toBe(accepted - 3600);
  });

  it('refuses to move a ref to a commit that does not descend from it, even in a newer summary, unless --allow-downgrade', async () => {
    signedSummary({ main: c[2]!, timestamp: now() });
    await troveOk(client, 'pull', 'origin');
    expect(main()).toBe(`${c[2]}\n`);
    // Back to an ancestor, and across to another history: both refused.
    signedSummary({ main: c[0]!, timestamp: now() });
    await refused(/refused: remote origin would move remotes\/origin\/main from [0-9a-f]{64} to [0-9a-f]{64}, which does not descend from it/);
    signedSummary({ main: c[3]!, timestamp: now() });
    await refused(/which does not descend from it/);
    // Forward is fine; --allow-downgrade moves it across.
    await troveOk(client, 'pull', 'origin', '--allow-downgrade');
    expect(main()).toBe(`${c[3]}\n`);
  });
});
