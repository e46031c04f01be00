import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, startNginx, objectRequests } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds, reachable } from './helpers/objects.js';
import { getDebs } from './helpers/debs.js';

/** Every file under `dir` (but objects/ and the LevelDB index), by path, with its content: what must not change. */
function stateOf(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(repo, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = relative(repo, join(e.parentPath, e.name));
    if (path.startsWith('index/') || path.startsWith('tmp/')) continue;
    out[path] = readFileSync(join(repo, path)).toString('base64');
  }
  return out;
}

/** The objects of package commits (commit, trees, blobs), each once, with their sizes, read from the server. */
async function packageObjects(server: string, commits: string[]): Promise<Map<string, number>> {
  const { metas, files } = await reachable(server, commits);
  return new Map([...metas, ...files]);
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A directory package with files `{path: content}`. */
function dirPackage(base: string, name: string, files: Record<string, string | Buffer>): string {
  const dir = join(base, 'src', name);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

describe('install from a remote package index served by nginx', () => {
  const base = tmpdir('trove-install-remote');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const link = join(base, 'ro');
  const shared = Buffer.alloc(64 << 10, 3);
  const extraOwn = Buffer.alloc(300 << 10, 9);
  let nginx: Nginx;
  let refs: Record<string, string>;

  beforeAll(async () => {
    await troveOk(server, 'init');
    const add = (dir: string, ...a: string[]) => troveOk(server, 'pkg', 'add', dir, '--arch', 'amd64', ...a);
    await add(dirPackage(base, 'tool', { 'usr/bin/tool': '#!/bin/sh\necho tool\n', 'usr/share/tool/data': shared }), '--name', 'tool', '--version', '1.0', '--depends', 'libtool-x (>= 2)');
    await add(dirPackage(base, 'libtool-x', { 'usr/lib/libtool-x.so': 'lib v2\n' }), '--name', 'libtool-x', '--version', '2.1');
    await add(dirPackage(base, 'extra', { 'usr/share/extra/own': extraOwn, 'usr/share/extra/shared': shared, 'etc/extra.conf': 'x=1\n' }), '--name', 'extra', '--version', '3');
    await add(dirPackage(base, 'broken', { 'usr/share/broken/f': 'b\n' }), '--name', 'broken', '--version', '1', '--depends', 'tool, nothere (>= 1)');
    for (const deb of getDebs(['hello', 'libc6', 'libgcc-s1', 'gcc-12-base'])) await troveOk(server, 'pkg', 'add', deb);
    await troveOk(server, 'summary');
    refs = JSON.parse(await troveOk(server, 'summary', '--json')).refs as Record<string, string>;
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('the summary names a package index that lists every package ref with its relations, commit and bytes', async () => {
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    expect(summary.packages).toMatchObject({ count: 8 });
    const bytes = readFileSync(join(server, 'packages', summary.packages.index));
    expect(sha256(bytes)).toBe(summary.packages.index);
    expect(bytes.length).toBe(summary.packages.size);
    const index = JSON.parse(bytes.toString('utf8'));
    const tool = index.packages.find((p: { name: string }) => p.name === 'tool');
    const own = await packageObjects(server, [refs['pkg/tool/amd64']!]);
    expect(tool).toEqual({
      name: 'tool',
      arch: 'amd64',
      version: '1.0',
      revision: 1,
      depends: ['libtool-x (>= 2)'],
      preDepends: [],
      provides: [],
      multiArch: '',
      commit: refs['pkg/tool/amd64'],
      bytes: [...own.values()].reduce((a, b) => a + b, 0),
      objects: own.size,
      treesPack: statSync(join(server, 'packages', `${refs['pkg/tool/amd64']}.trees`)).size,
    });
    const hello = index.packages.find((p: { name: string }) => p.name === 'hello');
    expect(hello.depends.some((d: string) => d.startsWith('libc6'))).toBe(true);
  });

  it('pkg list --remote lists the remote’s packages; without --remote they follow the local ones, from the cache', async () => {
    const r = JSON.parse(await troveOk(client, 'pkg', 'list', '--remote', 'origin', '--json')) as { ref: string; commit: string; source: string; stored: boolean }[];
    expect(r.map((p) => p.ref).sort()).toEqual(Object.keys(refs).sort());
    for (const p of r) expect(p).toMatchObject({ source: 'origin', stored: false, commit: refs[p.ref] });
    expect(existsSync(join(client, 'remotes/origin/packages.json'))).toBe(true);
    nginx.clearLog();
    const text = await troveOk(client, 'pkg', 'list');
    expect(text).toMatch(/^tool +amd64 +1\.0-1 +[0-9a-f]{12} +origin/m);
    expect(nginx.accessLog()).toEqual([]);
  });

  it('install --dry-run prints packages, objects and bytes, fetches no blob and changes nothing', async () => {
    const before = stateOf(client);
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'install', 'tool', '--dry-run', '--json'));
    const want = await packageObjects(server, [refs['pkg/tool/amd64']!, refs['pkg/libtool-x/amd64']!]);
    expect(r.plan).toEqual({ objects: want.size, bytes: [...want.values()].reduce((a, b) => a + b, 0), deltas: [] });
    expect(r.packages.map((p: { label: string; state: string; fetch: boolean }) => [p.label, p.state, p.fetch])).toEqual([
      ['libtool-x-amd64-2.1-1', 'new', true],
      ['tool-amd64-1.0-1', 'new', true],
    ]);
    expect(r.install).toBeNull();
    expect(stateOf(client)).toEqual(before);
    // Commits and trees only: no blob was downloaded.
    expect(objectRequests(nginx)).not.toContain(sha256(shared));
    expect(objectRequests(nginx)).not.toContain(sha256('lib v2\n'));
  });

  it('install pulls the closure, records remote-tracking refs and activates the generation', async () => {
    const before = objectIds(client);
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'install', 'tool', '--link', link, '--json'));
    const want = await packageObjects(server, [refs['pkg/tool/amd64']!, refs['pkg/libtool-x/amd64']!]);
    expect(r.fetched).toEqual({ objects: want.size, bytes: [...want.values()].reduce((a, b) => a + b, 0) });
    // Each file was requested once; the commits and trees came in the two packages' trees packs.
    const { files } = await reachable(server, [refs['pkg/tool/amd64']!, refs['pkg/libtool-x/amd64']!]);
    expect(objectRequests(nginx).sort()).toEqual([...files.keys()].sort());
    const packs = nginx.accessLog().filter((l) => l.path.endsWith('.trees'));
    expect(packs.map((l) => l.path).sort()).toEqual([`/packages/${refs['pkg/libtool-x/amd64']}.trees`, `/packages/${refs['pkg/tool/amd64']}.trees`].sort());
    for (const id of want.keys()) expect(before.has(id)).toBe(false);
    expect(r.refs.sort()).toEqual(['refs/remotes/origin/pkg/libtool-x/amd64', 'refs/remotes/origin/pkg/tool/amd64']);
    expect(readFileSync(join(client, 'refs/remotes/origin/pkg/tool/amd64'), 'utf8').trim()).toBe(refs['pkg/tool/amd64']);
    expect(r.install.packages).toEqual(['libtool-x-amd64-2.1-1', 'tool-amd64-1.0-1']);
    expect(readFileSync(join(link, 'usr/lib/libtool-x.so'), 'utf8')).toBe('lib v2\n');
    expect(readFileSync(join(link, 'usr/share/tool/data'))).toEqual(shared);
    await troveOk(client, 'fsck');
    // The pulled package refs are candidates offline too: gen build sees them.
    nginx.clearLog();
    const built = JSON.parse(await troveOk(client, 'gen', 'build', 'tool', '--json'));
    expect(built.packages).toEqual(['libtool-x-amd64-2.1-1', 'tool-amd64-1.0-1']);
    expect(nginx.accessLog()).toEqual([]);
  });

  it('a second install of one more package fetches exactly that package’s missing objects', async () => {
    const before = objectIds(client);
    const own = await packageObjects(server, [refs['pkg/extra/amd64']!]);
    const missing = [...own].filter(([id]) => !before.has(id));
    // The shared file is already here, from tool.
    expect(before.has(sha256(shared))).toBe(true);
    expect(missing.length).toBe(own.size - 1);
    nginx.clearLog();
    const dry = JSON.parse(await troveOk(client, 'install', 'extra', '--dry-run', '--json'));
    const bytes = missing.reduce((a, [, n]) => a + n, 0);
    expect(dry.plan).toEqual({ objects: missing.length, bytes, deltas: [] });
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'install', 'extra', '--link', link, '--json'));
    expect(r.fetched).toEqual({ objects: missing.length, bytes });
    // Its files one by one; its commit and trees in its trees pack.
    const { files } = await reachable(server, [refs['pkg/extra/amd64']!]);
    const missingFiles = missing.filter(([id]) => files.has(id));
    expect(objectRequests(nginx).sort()).toEqual(missingFiles.map(([id]) => id).sort());
    const pack = statSync(join(server, 'packages', `${refs['pkg/extra/amd64']}.trees`)).size;
    // Over the wire: those files, the pack and the summary (the index did not change, so it was not fetched again).
    const summaryBytes = readFileSync(join(server, 'summary')).length;
    expect(r.transfer.bytes).toBe(missingFiles.reduce((a, [, n]) => a + n, 0) + pack + summaryBytes);
    expect(r.remotes[0]).toMatchObject({ remote: 'origin', downloaded: false });
    expect(r.install.packages).toEqual(['extra-amd64-3-1', 'libtool-x-amd64-2.1-1', 'tool-amd64-1.0-1']);
    expect(readFileSync(join(link, 'usr/share/extra/own'))).toEqual(extraOwn);
  });


  it('install --dry-run of two packages that share a file charges it to the first one listed, once', async () => {
    const other = join(base, 'client-two');
    await troveOk(other, 'init');
    await troveOk(other, 'remote', 'add', 'origin', nginx.url);
    const r = JSON.parse(await troveOk(other, 'install', 'extra', 'tool', '--dry-run', '--json'));
    const labels = r.packages.map((p: { label: string }) => p.label);
    expect(labels).toEqual(['extra-amd64-3-1', 'libtool-x-amd64-2.1-1', 'tool-amd64-1.0-1']);
    // What each package brings that those listed before it did not.
    const seen = new Set<string>();
    const want: [number, number][] = [];
    for (const p of r.packages as { commit: string }[]) {
      const own = [...(await packageObjects(server, [p.commit]))].filter(([id]) => !seen.has(id));
      for (const [id] of own) seen.add(id);
      want.push([own.length, own.reduce((a, [, n]) => a + n, 0)]);
    }
    expect(r.packages.map((p: { objects: number; bytes: number }) => [p.objects, p.bytes])).toEqual(want);
    // The shared file went to extra, listed first: tool is charged its own objects only.
    const toolAll = await packageObjects(server, [refs['pkg/tool/amd64']!]);
    expect(want[2]![0]).toBe(toolAll.size - 1);
    expect(r.plan.objects).toBe(seen.size);
  });
  it('real .debs: hello comes with libc6, libgcc-s1 and gcc-12-base from their control fields', async () => {
    const r = JSON.parse(await troveOk(client, 'install', 'hello', '--link', link, '--json'));
    // tool's dependency stays one.
    expect(r.install.dependencies.map((p: string) => p.replace(/-amd64-.*/, ''))).toEqual(['gcc-12-base', 'libc6', 'libgcc-s1', 'libtool-x']);
    expect(existsSync(join(link, 'usr/bin/hello'))).toBe(true);
    await troveOk(client, 'fsck');
  });

  it('an unsatisfiable dependency is refused with its chain; nothing is fetched or recorded', async () => {
    const before = stateOf(client);
    const objects = objectIds(client);
    nginx.clearLog();
    const r = await trove(['--repo', client, 'install', 'broken', '--link', link]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe('trove: broken -> nothere (>= 1): no package provides nothere');
    expect(objectRequests(nginx)).toEqual([]);
    expect(objectIds(client)).toEqual(objects);
    expect(stateOf(client)).toEqual(before);
  });

  it('pull --mirror keeps the upstream’s package index with its summary, and the mirror serves it', async () => {
    const mirror = join(base, 'mirror');
    await troveOk(mirror, 'init');
    await troveOk(mirror, 'remote', 'add', 'origin', nginx.url);
    await troveOk(mirror, 'pull', 'origin', '--mirror');
    const id = JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).packages.index as string;
    expect(readFileSync(join(mirror, 'summary'))).toEqual(readFileSync(join(server, 'summary')));
    expect(readFileSync(join(mirror, 'packages', id))).toEqual(readFileSync(join(server, 'packages', id)));
    // And the trees pack of every package the index lists, byte for byte.
    const listed = JSON.parse(readFileSync(join(server, 'packages', id), 'utf8')).packages as { commit: string; treesPack: number }[];
    expect(listed).toHaveLength(8);
    for (const e of listed) {
      const pack = readFileSync(join(mirror, 'packages', `${e.commit}.trees`));
      expect(pack.length).toBe(e.treesPack);
      expect(pack).toEqual(readFileSync(join(server, 'packages', `${e.commit}.trees`)));
    }
    const viaMirror = join(base, 'via-mirror');
    await troveOk(viaMirror, 'init');
    await troveOk(viaMirror, 'remote', 'add', 'm', mirror);
    const r = JSON.parse(await troveOk(viaMirror, 'install', 'extra', '--no-switch', '--json'));
    expect(r.install.packages).toEqual(['extra-amd64-3-1']);
    // remote remove drops its cached index.
    expect(existsSync(join(viaMirror, 'remotes/m/packages.json'))).toBe(true);
    await troveOk(viaMirror, 'remote', 'remove', 'm');
    expect(existsSync(join(viaMirror, 'remotes/m'))).toBe(false);
  });

  it('a local package of the same version wins over the remote’s', async () => {
    const local = join(base, 'local');
    await troveOk(local, 'init');
    await troveOk(local, 'remote', 'add', 'origin', nginx.url);
    await troveOk(local, 'pkg', 'add', dirPackage(base, 'mylib', { 'usr/lib/libtool-x.so': 'my own v2\n' }), '--name', 'libtool-x', '--arch', 'amd64', '--version', '2.1', '--revision', '1');
    const r = JSON.parse(await troveOk(local, 'install', 'tool', '--dry-run', '--json'));
    expect(r.packages.map((p: { label: string; source: string }) => `${p.label} ${p.source}`)).toEqual(['libtool-x-amd64-2.1-1 local', 'tool-amd64-1.0-1 origin']);
  });

  it('a one-character package name (accepted by pkg add) is listed in the index and installs', async () => {
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'z', { 'usr/share/z/z': 'z\n' }), '--arch', 'amd64', '--name', 'z', '--version', '1', '--depends', 'libtool-x');
    await troveOk(server, 'summary');
    const r = await trove(['--repo', client, 'install', 'z', '--link', link, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).install.packages).toContain('z-amd64-1-1');
    expect(readFileSync(join(link, 'usr/share/z/z'), 'utf8')).toBe('z\n');
  });
});

describe('a hostile or tampered package index is refused and changes nothing', () => {
  const base = tmpdir('trove-install-hostile');
  const server = join(base, 'server');
  const client = join(base, 'client');
  let nginx: Nginx;
  let good: { summary: string; index: string };

  beforeAll(async () => {
    await troveOk(server, 'init');
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'one', { 'etc/one': '1\n' }), '--name', 'one', '--arch', 'amd64', '--version', '1');
    await troveOk(server, 'summary');
    const summary = readFileSync(join(server, 'summary'), 'utf8');
    const id = JSON.parse(summary).packages.index as string;
    good = { summary, index: readFileSync(join(server, 'packages', id), 'utf8') };
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  /** Serves `index` under the id `id` (default: its own) and a summary naming it. */
  function serve(index: string, id = sha256(index), size = Buffer.byteLength(index), count = 1): void {
    const s = JSON.parse(good.summary);
    s.packages = { count, index: id, size };
    writeFileSync(join(server, 'packages', id), index);
    writeFileSync(join(server, 'summary'), `${JSON.stringify(s)}\n`);
  }

  it.each([
    ['bad JSON', () => serve('{"format":"trove-packages-1","packages":['), /package index is not valid JSON/],
    ['an id its bytes do not hash to', () => serve(good.index.replace('"version":"1"', '"version":"2"'), sha256(good.index)), /wrong bytes for object/],
    ['a malformed version', () => serve(good.index.replace('"version":"1"', '"version":"!bad"')), /package one\/amd64 has an invalid version/],
    ['a malformed dependency', () => serve(good.index.replace('"depends":[]', '"depends":["x (>= "]')), /package one\/amd64 depends/],
    ['a bad commit id', () => serve(good.index.replace(/"commit":"[0-9a-f]+"/, '"commit":"zz"')), /package one\/amd64 has no valid commit id/],
    ['a count the summary does not give', () => serve(good.index, undefined, undefined, 2), /lists 1 packages, its summary says 2/],
  ])('%s', async (_what, tamper, message) => {
    // Nothing cached: the index must come from the server.
    rmSync(join(client, 'remotes'), { recursive: true, force: true });
    const before = stateOf(client);
    const objects = objectIds(client);
    const goodId = JSON.parse(good.summary).packages.index as string;
    tamper();
    try {
      for (const args of [['pkg', 'list', '--remote', 'origin'], ['install', 'one', '--remote', 'origin', '--retries', '0']]) {
        const r = await trove(['--repo', client, ...args]);
        expect(r.code, r.stderr).toBe(5);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(stateOf(client)).toEqual(before);
        expect(objectIds(client)).toEqual(objects);
      }
    } finally {
      writeFileSync(join(server, 'summary'), good.summary);
      writeFileSync(join(server, 'packages', goodId), good.index);
    }
    // The real index, once served again, is taken.
    expect(await troveOk(client, 'pkg', 'list', '--remote', 'origin')).toMatch(/^one +amd64 +1-1/);
  });
});

describe('install from a remote with a signed summary', () => {
  const base = tmpdir('trove-install-signed');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const key = join(base, 'key.pem');
  let nginx: Nginx;

  beforeAll(async () => {
    await troveOk(server, 'init');
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'one', { 'etc/one': '1\n' }), '--name', 'one', '--arch', 'amd64', '--version', '1');
    await troveOk(server, 'keygen', '--out', key);
    await troveOk(server, 'summary', '--key', key);
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => nginx?.stop());

  it('the signed summary covers the index through its id: a swapped index is refused, the real one installs', async () => {
    const summary = readFileSync(join(server, 'summary'), 'utf8');
    const s = JSON.parse(summary);
    const index = readFileSync(join(server, 'packages', s.packages.index), 'utf8');
    const forged = index.replace('"version":"1"', '"version":"9"');
    cpSync(join(server, 'packages', s.packages.index), join(base, 'index.bak'));
    writeFileSync(join(server, 'packages', sha256(forged)), forged);
    writeFileSync(join(server, 'summary'), `${JSON.stringify({ ...s, packages: { ...s.packages, index: sha256(forged) } })}\n`);
    const before = stateOf(client);
    const r = await trove(['--repo', client, 'install', 'one', '--remote', 'origin', '--no-switch']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/summary of remote origin/);
    expect(stateOf(client)).toEqual(before);
    writeFileSync(join(server, 'summary'), summary);
    const ok = JSON.parse(await troveOk(client, 'install', 'one', '--remote', 'origin', '--no-switch', '--json'));
    expect(ok.install.packages).toEqual(['one-amd64-1-1']);
  });
});

describe('install from a server that publishes a pack of a whole package', () => {
  const base = tmpdir('trove-install-pack');
  const server = join(base, 'server');
  const fresh = join(base, 'fresh');
  const warm = join(base, 'warm');
  // Distinct contents (a pack compresses them little): the pack is about the size of the objects.
  const big = (seed: number) => createHash('sha512').update(String(seed)).digest().toString('hex').repeat(3000);
  let nginx: Nginx;
  let pkgCommit: string;
  let pack: string;
  let blobIds: Set<string>;

  beforeAll(async () => {
    await troveOk(server, 'init');
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`usr/share/big/f${i}`] = big(i);
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'big', files), '--arch', 'amd64', '--name', 'big', '--version', '1');
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'near', { ...files, 'usr/share/big/extra': 'x\n' }), '--arch', 'amd64', '--name', 'near', '--version', '1');
    pkgCommit = readFileSync(join(server, 'refs/heads/pkg/big/amd64'), 'utf8').trim();
    await troveOk(server, 'delta', '--from-empty', pkgCommit, '--compression', 'gzip');
    await troveOk(server, 'summary');
    pack = `empty-${pkgCommit}`;
    blobIds = new Set(Object.values(files).map((f) => sha256(f)));
    nginx = await startNginx(server);
    for (const c of [fresh, warm]) {
      await troveOk(c, 'init');
      await troveOk(c, 'remote', 'add', 'origin', nginx.url);
    }
  });
  afterAll(async () => nginx?.stop());

  it('a client that lacks the package fetches the pack, one request, instead of each object', async () => {
    const dry = JSON.parse(await troveOk(fresh, 'install', 'big', '--no-deps', '--no-switch', '--dry-run', '--json'));
    expect(dry.plan.deltas).toEqual([pack]);
    expect(dry.plan.bytes).toBe(readFileSync(join(server, 'deltas', pack)).length);
    nginx.clearLog();
    const r = JSON.parse(await troveOk(fresh, 'install', 'big', '--no-deps', '--no-switch', '--json'));
    expect(r.install.packages).toEqual(['big-amd64-1-1']);
    const paths = nginx.accessLog().map((l) => l.path);
    expect(paths).toContain(`/deltas/${pack}`);
    // The plan walked the commit and its trees from its trees pack; no object was fetched on its own.
    expect(paths).toContain(`/packages/${pkgCommit}.trees`);
    expect(objectRequests(nginx)).toEqual([]);
    // 12 blobs, the commit, and the trees /, usr, usr/share, usr/share/big.
    expect(r.fetched.objects).toBe(12 + 1 + 4);
    for (const id of blobIds) expect(existsSync(join(fresh, 'objects', id.slice(0, 2), id.slice(2)))).toBe(true);
    await troveOk(fresh, 'fsck');
  });

  it('a client that has most of it fetches the objects it lacks: the pack would cost more bytes', async () => {
    await troveOk(warm, 'install', 'near', '--no-deps', '--no-switch');
    nginx.clearLog();
    const r = JSON.parse(await troveOk(warm, 'install', 'big', '--no-deps', '--no-switch', '--json'));
    expect(r.plan.deltas).toEqual([]);
    expect(nginx.accessLog().map((l) => l.path)).not.toContain(`/deltas/${pack}`);
    expect(r.install.packages).toEqual(['big-amd64-1-1', 'near-amd64-1-1']);
    await troveOk(warm, 'fsck');
  });
});
