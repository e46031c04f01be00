import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { snapshot } from './helpers/fstree.js';
import { runTrove, TROVE_BIN, troveIn, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';

const objectFile = (repo: string, id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));

/** A small tree: nested directories, a script, a 2 MiB file, a symlink. */
function makeTree(dir: string): void {
  for (const d of ['etc', 'usr/bin', 'usr/share/doc/a', 'usr/share/doc/b']) mkdirSync(join(dir, d), { recursive: true });
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, 'usr/bin', `tool${i}`), `#!/bin/sh\necho tool ${i}\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'usr/share/doc/a', `doc${i}`), `doc a ${i}\n`);
    writeFileSync(join(dir, 'usr/share/doc/b', `doc${i}`), `doc b ${i}\n`);
  }
  writeFileSync(join(dir, 'etc/os-release'), 'ID=test\nVERSION_ID=1\n');
  writeFileSync(join(dir, 'usr/share/big'), Buffer.alloc(2 << 20, 7));
  symlinkSync('../usr/bin/tool1', join(dir, 'etc/tool'));
}

/** The id of the entry at `path` of `rev`. */
async function idAt(repo: string, rev: string, path: string): Promise<string> {
  const slash = path.lastIndexOf('/');
  const entries = JSON.parse(await troveOk(repo, 'ls', '--json', `${rev}:${path.slice(0, slash)}`)) as { name: string; id: string }[];
  return entries.find((e) => e.name === path.slice(slash + 1))!.id;
}

/** The three faults: one blob overwritten in place (same size), one blob deleted, one tree corrupted. */
interface Faults {
  changed: string;
  deleted: string;
  tree: string;
}

async function faultIds(repo: string, rev: string): Promise<Faults> {
  return {
    changed: await idAt(repo, rev, 'etc/os-release'),
    deleted: await idAt(repo, rev, 'usr/share/doc/b/doc1'),
    tree: await idAt(repo, rev, 'usr/share/doc/a'),
  };
}

/** Damages `repo`'s copies of the objects; returns the bytes the damaged files now hold. */
function damage(repo: string, f: Faults): { changed: Buffer; tree: Buffer } {
  const blob = readFileSync(objectFile(repo, f.changed));
  const changed = Buffer.from(blob.toString('latin1').replace('test', 'TEST'), 'latin1');
  expect(changed.length).toBe(blob.length);
  // Overwritten in place: same inode, same size, other bytes.
  writeFileSync(objectFile(repo, f.changed), changed);
  rmSync(objectFile(repo, f.deleted));
  const tree = readFileSync(objectFile(repo, f.tree));
  tree.writeUInt8(tree.readUInt8(tree.length - 1) ^ 0xff, tree.length - 1);
  writeFileSync(objectFile(repo, f.tree), tree);
  return { changed, tree };
}

interface RepairJson {
  ok: boolean;
  remotes: string[];
  found: { id?: string; problem: string }[];
  repaired: { id: string; kind?: string; was: string; remote: string; url: string }[];
  quarantined: { id: string; kind?: string; file: string; record: string }[];
  remaining: {
    id?: string;
    kind?: string;
    problem: string;
    neededBy: { root: string; commit: string; path?: string }[];
    tried: { source: string; outcome: string; detail: string }[];
  }[];
  fsck: { ok: boolean };
}

describe('fsck --repair', () => {
  const base = tmpdir('trove-repair');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const badServer = join(base, 'bad-server');
  let nginx: Nginx;
  let badNginx: Nginx;
  let head: string;

  beforeAll(async () => {
    makeTree(src);
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'one');
    await troveOk(server, 'summary');
    head = JSON.parse(await troveOk(server, 'show', '--json', 'os/main')).commit;
    nginx = await startNginx(server);
    // A server whose copy of the overwritten blob is itself wrong (same size, other bytes).
    cpSync(server, badServer, { recursive: true });
    const f = await faultIds(server, 'os/main');
    const bytes = readFileSync(objectFile(badServer, f.changed));
    bytes.writeUInt8(bytes.readUInt8(0) ^ 0x01, 0);
    writeFileSync(objectFile(badServer, f.changed), bytes);
    badNginx = await startNginx(badServer);
  });
  afterAll(async () => {
    await nginx?.stop();
    await badNginx?.stop();
  });

  /** A client that pulled os/main from the good server over nginx. */
  async function pulledClient(name: string): Promise<string> {
    const client = join(base, name);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    await troveOk(client, 'pull', 'origin', 'os/main');
    return client;
  }

  it('fetches a changed blob, a deleted blob and a corrupt tree back from the remote over nginx', async () => {
    const client = await pulledClient('c1');
    const t = troveIn(client);
    const f = await faultIds(client, 'remotes/origin/os/main');
    damage(client, f);

    // Plain fsck finds all three and changes nothing.
    const before = snapshot(client, (rel) => rel === 'index' || rel === 'tmp');
    const plain = await t('fsck', '--json');
    expect(plain.code).toBe(5);
    const plainReport = JSON.parse(plain.stdout) as { problems: { id?: string; problem: string }[] };
    expect(plainReport.problems.map((p) => `${p.problem} ${p.id}`).sort()).toEqual(
      [`corrupt ${f.changed}`, `corrupt ${f.tree}`, `missing ${f.deleted}`].sort(),
    );
    expect(snapshot(client, (rel) => rel === 'index' || rel === 'tmp')).toEqual(before);

    nginx.clearLog();
    const r = await t('fsck', '--repair', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as RepairJson;
    expect(report.ok).toBe(true);
    expect(report.remotes).toEqual(['origin']);
    expect(report.repaired.map((x) => ({ id: x.id, kind: x.kind, was: x.was, remote: x.remote, url: x.url })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: f.changed, kind: 'blob', was: 'corrupt', remote: 'origin', url: nginx.url },
        { id: f.deleted, kind: 'blob', was: 'missing', remote: 'origin', url: nginx.url },
        { id: f.tree, kind: 'tree', was: 'corrupt', remote: 'origin', url: nginx.url },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(report.quarantined).toEqual([]);
    expect(report.remaining).toEqual([]);
    // Exactly the three objects were asked for.
    const asked = nginx.accessLog().filter((l) => l.path.startsWith('/objects/')).map((l) => l.path.slice('/objects/'.length).replace('/', ''));
    expect(asked.sort()).toEqual([f.changed, f.deleted, f.tree].sort());
    expect(existsSync(join(client, 'quarantine'))).toBe(false);

    expect(objectIds(client)).toEqual(objectIds(server));
    for (const id of [f.changed, f.deleted, f.tree]) expect(readFileSync(objectFile(client, id))).toEqual(readFileSync(objectFile(server, id)));
    expect((await t('fsck')).code).toBe(0);

    // The text report names them too.
    damage(client, f);
    const text = await t('fsck', '--repair');
    expect(text.code).toBe(0);
    for (const [id, kind] of [[f.changed, 'blob'], [f.deleted, 'blob'], [f.tree, 'tree']]) expect(text.stdout).toContain(`repaired: ${kind} ${id}`);
    expect(text.stdout).toContain(`from origin (${nginx.url})`);
    expect(text.stdout).toMatch(/found 3 problem\(s\); repaired 3, quarantined 0, 0 remain \(remotes: origin\)\nok\n$/);
  });

  it('with no remote: corrupt files go to quarantine/ with a record, exit 5, and committing the same content heals it', async () => {
    // A repository that committed the tree itself: its stat cache knows every file.
    const repo = join(base, 'local');
    const t = troveIn(repo);
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'os/main', '-m', 'one');
    const commit = JSON.parse(await troveOk(repo, 'show', '--json', 'os/main')).commit as string;
    const f = await faultIds(repo, 'os/main');
    const bad = damage(repo, f);

    const r = await t('fsck', '--repair', '--json');
    expect(r.code).toBe(5);
    // Under --json the error is one JSON object on stderr; the report is on stdout.
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'E_CORRUPT', message: 'fsck --repair: 3 problem(s) remain' } });
    const report = JSON.parse(r.stdout) as RepairJson;
    expect(report.ok).toBe(false);
    expect(report.remotes).toEqual([]);
    expect(report.repaired).toEqual([]);
    expect(report.quarantined.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: f.changed, kind: 'blob', file: `quarantine/${f.changed}`, record: `quarantine/${f.changed}.json` },
        { id: f.tree, kind: 'tree', file: `quarantine/${f.tree}`, record: `quarantine/${f.tree}.json` },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    // The bytes are kept as they were found, and the store no longer has them.
    expect(readFileSync(join(repo, 'quarantine', f.changed))).toEqual(bad.changed);
    expect(readFileSync(join(repo, 'quarantine', f.tree))).toEqual(bad.tree);
    for (const id of [f.changed, f.tree, f.deleted]) expect(existsSync(objectFile(repo, id))).toBe(false);
    // What is still missing, and who needs it.
    const byId = new Map(report.remaining.map((p) => [p.id, p]));
    expect(new Set(byId.keys())).toEqual(new Set([f.changed, f.deleted, f.tree]));
    expect(byId.get(f.changed)).toMatchObject({ kind: 'blob', problem: 'missing', neededBy: [{ root: 'refs/heads/os/main', commit, path: '/etc/os-release' }] });
    expect(byId.get(f.deleted)).toMatchObject({ kind: 'blob', problem: 'missing', neededBy: [{ root: 'refs/heads/os/main', commit, path: '/usr/share/doc/b/doc1' }] });
    expect(byId.get(f.tree)).toMatchObject({ kind: 'tree', problem: 'missing', neededBy: [{ root: 'refs/heads/os/main', commit, path: '/usr/share/doc/a' }] });
    const record = JSON.parse(readFileSync(join(repo, 'quarantine', `${f.tree}.json`), 'utf8'));
    expect(record).toMatchObject({ id: f.tree, kind: 'tree', problem: 'corrupt', files: [f.tree], neededBy: [{ root: 'refs/heads/os/main', commit, path: '/usr/share/doc/a' }], tried: [] });
    expect(record.detail).toMatch(/^content hashes to [0-9a-f]{64}$/);
    const missingRecord = JSON.parse(readFileSync(join(repo, 'quarantine', `${f.deleted}.json`), 'utf8'));
    expect(missingRecord).toMatchObject({ id: f.deleted, problem: 'missing', files: [] });

    // Text: what is missing and where it is needed.
    const text = await t('fsck', '--repair');
    expect(text.code).toBe(5);
    expect(text.stdout).toContain(`missing: blob ${f.deleted} at refs/heads/os/main@${commit.slice(0, 12)}:/usr/share/doc/b/doc1`);
    expect(text.stdout).toContain(`  needed by refs/heads/os/main: commit ${commit} path /usr/share/doc/b/doc1\n`);

    // Committing the same content stores the objects again, stat cache notwithstanding.
    await troveOk(repo, 'commit', src, '-r', 'os/again', '-m', 'again');
    for (const id of [f.changed, f.tree, f.deleted]) expect(existsSync(objectFile(repo, id))).toBe(true);
    expect((await t('fsck')).code).toBe(0);
    // The evidence stays.
    expect(readFileSync(join(repo, 'quarantine', f.changed))).toEqual(bad.changed);
  });

  it('a package file quarantined is needed by the package and the generation; re-adding the package heals it', async () => {
    const repo = join(base, 'pkgs');
    const t = troveIn(repo);
    const pkgSrc = join(base, 'pkg-src');
    mkdirSync(join(pkgSrc, 'usr/share/base'), { recursive: true });
    writeFileSync(join(pkgSrc, 'usr/share/base/data'), 'base data\n');
    writeFileSync(join(pkgSrc, 'usr/share/base/other'), 'other\n');
    await troveOk(repo, 'init');
    const added = JSON.parse(await troveOk(repo, 'pkg', 'add', pkgSrc, '--name', 'base', '--arch', 'amd64', '--version', '1.0', '--json'));
    const gen = JSON.parse(await troveOk(repo, 'gen', 'build', 'base', '--json'));
    const blob = await idAt(repo, 'pkg/base/amd64', 'usr/share/base/data');
    writeFileSync(objectFile(repo, blob), 'BASE DATA\n');

    const r = await t('fsck', '--repair', '--json');
    expect(r.code).toBe(5);
    const report = JSON.parse(r.stdout) as RepairJson;
    expect(report.quarantined.map((q) => q.id)).toEqual([blob]);
    expect(report.remaining.map((p) => ({ id: p.id, problem: p.problem }))).toEqual([{ id: blob, problem: 'missing' }]);
    expect(report.remaining[0]!.neededBy).toEqual([
      { root: 'refs/heads/pkg/base/amd64', commit: added.commit, path: '/usr/share/base/data' },
      // A generation's tree holds each package's own tree and the merged view.
      { root: 'profiles/system/1', commit: gen.commit, path: '/base-amd64-1.0-1/usr/share/base/data' },
      { root: 'profiles/system/1', commit: gen.commit, path: '/usr/share/base/data' },
    ]);
    expect(readFileSync(join(repo, 'quarantine', blob), 'utf8')).toBe('BASE DATA\n');

    const again = JSON.parse(await troveOk(repo, 'pkg', 'add', pkgSrc, '--name', 'base', '--arch', 'amd64', '--version', '1.0', '--json'));
    expect(again.unchanged).toBe(true);
    expect(readFileSync(objectFile(repo, blob), 'utf8')).toBe('base data\n');
    expect((await t('fsck')).code).toBe(0);
  });

  it('with no remote, then one added: fsck --repair heals what was quarantined', async () => {
    const client = await pulledClient('c2');
    const t = troveIn(client);
    await troveOk(client, 'remote', 'remove', 'origin');
    const f = await faultIds(client, 'remotes/origin/os/main');
    damage(client, f);
    const r = await t('fsck', '--repair', '--json');
    expect(r.code).toBe(5);
    const report = JSON.parse(r.stdout) as RepairJson;
    expect(report.quarantined.map((q) => q.id).sort()).toEqual([f.changed, f.tree].sort());
    expect(report.remaining.find((p) => p.id === f.deleted)!.neededBy).toEqual([
      { root: 'refs/remotes/origin/os/main', commit: head, path: '/usr/share/doc/b/doc1' },
    ]);

    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    const again = await t('fsck', '--repair', '--json');
    expect(again.code).toBe(0);
    const healed = JSON.parse(again.stdout) as RepairJson;
    expect(healed.repaired.map((x) => `${x.was} ${x.id} ${x.remote}`).sort()).toEqual(
      [`missing ${f.changed} origin`, `missing ${f.deleted} origin`, `missing ${f.tree} origin`].sort(),
    );
    expect(objectIds(client)).toEqual(objectIds(server));
    expect((await t('fsck')).code).toBe(0);
  });

  it('with no remote, then one added: a re-pull of the same commit restores what quarantine/ records', async () => {
    const client = await pulledClient('c4');
    const t = troveIn(client);
    await troveOk(client, 'remote', 'remove', 'origin');
    const f = await faultIds(client, 'remotes/origin/os/main');
    damage(client, f);
    expect((await t('fsck', '--repair')).code).toBe(5);

    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    const pulled = JSON.parse(await troveOk(client, 'pull', 'origin', 'os/main', '--json'));
    expect(pulled.refs[0]).toMatchObject({ previous: head, commit: head });
    expect([...pulled.healed].sort()).toEqual([f.changed, f.deleted, f.tree].sort());
    expect(objectIds(client)).toEqual(objectIds(server));
    expect((await t('fsck')).code).toBe(0);
    // Nothing left to restore: the next pull fetches nothing.
    const text = await t('pull', 'origin', 'os/main');
    expect(text.stdout).toContain('fetched 0 objects');
    expect(text.stdout).not.toContain('restored');

    // Records that are not records (another id, a path, not JSON) name nothing to fetch.
    const q = join(client, 'quarantine');
    const other = 'ab'.repeat(32);
    writeFileSync(join(q, `${other}.json`), JSON.stringify({ id: '../../../etc/passwd', kind: 'blob', files: [] }));
    writeFileSync(join(q, `${'cd'.repeat(32)}.json`), '{not json');
    writeFileSync(join(q, `${'ef'.repeat(32)}.json`), JSON.stringify({ id: 'ef'.repeat(32), kind: 'blob', size: -1, files: [] }));
    nginx.clearLog();
    const hostile = JSON.parse(await troveOk(client, 'pull', 'origin', 'os/main', '--json'));
    expect(hostile.healed).toEqual([]);
    expect(nginx.accessLog().filter((l) => l.path.startsWith('/objects/'))).toEqual([]);
  });

  it('a remote serving wrong bytes is not trusted; a local-directory remote that has the object heals it', async () => {
    const client = await pulledClient('c3');
    const t = troveIn(client);
    await troveOk(client, 'remote', 'remove', 'origin');
    await troveOk(client, 'remote', 'add', 'bad', badNginx.url);
    const f = await faultIds(client, 'remotes/origin/os/main');
    const blob = readFileSync(objectFile(client, f.changed));
    const changed = Buffer.from(blob.toString('latin1').replace('test', 'TEST'), 'latin1');
    writeFileSync(objectFile(client, f.changed), changed);
    const mode = statSync(objectFile(client, f.changed)).mode;

    const r = await t('fsck', '--repair');
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(`quarantined: blob ${f.changed} -> quarantine/${f.changed}`);
    expect(r.stdout).toContain(`missing: blob ${f.changed}`);
    expect(r.stdout).toContain(`  bad: the remote's copy did not verify: ${badNginx.url}objects/${f.changed.slice(0, 2)}/${f.changed.slice(2)}: wrong bytes for object ${f.changed}`);
    // The wrong copy was not installed: the store lacks the object, the quarantine holds the local bytes.
    expect(existsSync(objectFile(client, f.changed))).toBe(false);
    expect(readFileSync(join(client, 'quarantine', f.changed))).toEqual(changed);
    const record = JSON.parse(readFileSync(join(client, 'quarantine', `${f.changed}.json`), 'utf8'));
    expect(record.tried).toEqual([{ source: 'bad', outcome: 'did-not-verify', detail: expect.stringContaining("the remote's copy did not verify") }]);

    // Asked again, the wrong copy is still refused.
    const again = JSON.parse((await t('fsck', '--repair', '--json')).stdout) as RepairJson;
    expect(again.repaired).toEqual([]);
    expect(again.remaining.map((p) => [p.id, p.tried.map((x) => x.outcome)])).toEqual([[f.changed, ['did-not-verify']]]);
    expect(existsSync(objectFile(client, f.changed))).toBe(false);

    // A local-directory remote listed after it has the right bytes.
    await troveOk(client, 'remote', 'add', 'local', server);
    const healed = JSON.parse((await t('fsck', '--repair', '--json')).stdout) as RepairJson;
    expect(healed.ok).toBe(true);
    expect(healed.repaired).toEqual([{ id: f.changed, kind: 'blob', was: 'missing', remote: 'local', url: server }]);
    expect(readFileSync(objectFile(client, f.changed))).toEqual(blob);
    expect(statSync(objectFile(client, f.changed)).mode & 0o777).toBe(mode & 0o777);
    expect((await t('fsck')).code).toBe(0);
  });

  it('a repaired object loses the .gz sibling made from its bad bytes; summary --gzip-objects makes it again', async () => {
    const client = await pulledClient('c6');
    const big = await idAt(client, 'remotes/origin/os/main', 'usr/share/big');
    const bad = Buffer.alloc(2 << 20, 8);
    writeFileSync(objectFile(client, big), bad);
    await troveOk(client, 'summary', '--gzip-objects');
    expect(gunzipSync(readFileSync(`${objectFile(client, big)}.gz`)).equals(bad)).toBe(true);

    const r = JSON.parse(await troveOk(client, 'fsck', '--repair', '--json')) as RepairJson;
    expect(r.repaired.map((x) => x.id)).toEqual([big]);
    expect(existsSync(`${objectFile(client, big)}.gz`)).toBe(false);
    await troveOk(client, 'summary', '--gzip-objects');
    expect(gunzipSync(readFileSync(`${objectFile(client, big)}.gz`)).equals(readFileSync(objectFile(server, big)))).toBe(true);
  });

  it('waits while gc holds the repository lock exclusively', async () => {
    const client = await pulledClient('c7');
    const f = await faultIds(client, 'remotes/origin/os/main');
    damage(client, f);
    // Another process holds the lock as gc does (exclusive), long enough for a Node start on a busy machine.
    const holder = spawn('flock', ['-x', join(client, 'lock'), '-c', 'sleep 3'], { stdio: 'ignore' });
    const gone = new Promise((resolve) => holder.once('exit', resolve));
    const held = () => spawnSync('flock', ['-n', '-s', join(client, 'lock'), 'true']).status !== 0;
    const deadline = Date.now() + 10_000;
    while (!held() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held()).toBe(true);
    const r = runTrove(['--repo', client, 'fsck', '--repair']);
    expect(r.stderr).toBe('waiting for gc to finish...\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('repaired 3, quarantined 0, 0 remain');
    await gone;
  });

  it('killed while a fetched copy streams in, it leaves the bad file as it was; a rerun heals it', async () => {
    const client = await pulledClient('c5');
    const slow = await startNginx(server, { rate: '100k' });
    try {
      await troveOk(client, 'remote', 'remove', 'origin');
      await troveOk(client, 'remote', 'add', 'slow', slow.url);
      const big = await idAt(client, 'remotes/origin/os/main', 'usr/share/big');
      const bad = Buffer.alloc(2 << 20, 8);
      writeFileSync(objectFile(client, big), bad);
      const ids = objectIds(client);

      // A real process, killed once the 2 MiB copy has started to arrive.
      const child = spawn(process.execPath, [TROVE_BIN, '--repo', client, 'fsck', '--repair'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const partial = () => readdirSync(join(client, 'tmp')).some((n) => n.startsWith('pull-') && statSync(join(client, 'tmp', n)).size > 0);
      const deadline = Date.now() + 20_000;
      while (!partial() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(partial()).toBe(true);
      child.kill('SIGKILL');
      await exited;

      // (Buffer.equals: a deep toEqual of 2 MiB takes seconds.)
      expect(readFileSync(objectFile(client, big)).equals(bad)).toBe(true);
      expect(objectIds(client)).toEqual(ids);
      expect(existsSync(join(client, 'quarantine'))).toBe(false);

      await troveOk(client, 'remote', 'add', 'origin', nginx.url);
      const r = JSON.parse(await troveOk(client, 'fsck', '--repair', '--json')) as RepairJson;
      expect(r.repaired.map((x) => [x.id, x.remote])).toEqual([[big, 'origin']]);
      expect(readFileSync(objectFile(client, big)).equals(readFileSync(objectFile(server, big)))).toBe(true);
      // The killed run's temp file was swept when the repository was next opened.
      expect(readdirSync(join(client, 'tmp')).filter((n) => n.startsWith('pull-'))).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});
