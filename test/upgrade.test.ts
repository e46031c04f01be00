import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGeneration } from '../src/system/generations/build.js';
import { addPackage } from '../src/system/packages/add.js';
import { Repo } from '../src/repo/repo.js';
import { type Nginx, startNginx, objectRequests } from './helpers/nginx.js';
import { trove, troveIn, troveOk } from './helpers/cli.js';
import { objectIds, reachable } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

/** A package tree of 40 files; `version` changes one of them (and bin/tool). */
function writeTree(dir: string, version: number): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'share/data'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, 'share/data', `f${i}`), `data ${i}\n`.repeat(200 + i));
  writeFileSync(join(dir, 'share/data', `f${version % 40}`), `changed in ${version}\n`.repeat(300));
  writeFileSync(join(dir, 'bin/tool'), `tool ${version}\n`);
}

/** Builds generation `version` of profile `system` in the repository at `path`, through the library. */
async function buildVersion(path: string, src: string, version: number): Promise<void> {
  writeTree(src, version);
  const repo = await Repo.open(path);
  try {
    await addPackage(repo, src, { name: 'tool', arch: 'amd64', version: `1.${version}` });
    await buildGeneration(repo, { specs: [{ name: 'tool', priority: 0 }] });
  } finally {
    await repo.close();
  }
}

/** The bytes of the object files `ids` in `repo`. */
function objectBytes(repo: string, ids: Iterable<string>): number {
  let n = 0;
  for (const id of ids) n += statSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))).size;
  return n;
}

function generationFiles(repo: string): string[] {
  return readdirSync(join(repo, 'profiles/system')).sort();
}

describe('publish generations and upgrade from them', () => {
  const base = tmpdir('trove-upgrade');
  const server = join(base, 'server');
  const src = join(base, 'src');
  const client = join(base, 'client');
  const link = join(base, 'ro');
  const cli = troveIn(client);
  let nginx: Nginx;

  beforeAll(async () => {
    await Repo.init(server).then((r) => r.close());
    for (let v = 1; v <= 3; v++) await buildVersion(server, src, v);
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('gen publish lists the profile’s generations in the summary; --stop takes them out', async () => {
    expect(await troveOk(server, 'gen', 'publish')).toContain('profile system is now published; summary written');
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    const gens = summary.generations.system;
    expect(gens.map((g: { number: number }) => g.number)).toEqual([1, 2, 3]);
    expect(gens[2].commit).toBe(readFileSync(join(server, 'profiles/system/3'), 'utf8').trim());
    expect(gens[2].packages).toEqual(['tool-amd64-1.3-3']);
    expect(await troveOk(server, 'gen', 'publish', '--stop')).toContain('profile system is now not published; summary updated');
    expect(JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).generations).toBeUndefined();
    await troveOk(server, 'gen', 'publish');
  });

  it('upgrade --dry-run says what it would fetch and records nothing; upgrade then fetches exactly that', async () => {
    nginx.clearLog();
    const dry = JSON.parse(await troveOk(client, 'upgrade', '--dry-run', '--link', link, '--json'));
    expect(dry).toMatchObject({ state: 'dry-run', remote: 'origin', profile: 'system', generation: null, published: { generation: 3 } });
    // It learnt the commit and trees from the generation's trees pack, as the upgrade does, and fetched no file.
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${dry.published.commit}.trees`);
    expect(objectRequests(nginx)).toEqual([]);
    expect(existsSync(join(client, 'profiles/system'))).toBe(false);
    expect(existsSync(link)).toBe(false);
    expect(objectIds(client).size).toBe(0);

    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'upgrade', '--link', link, '--json'));
    expect(r).toMatchObject({ state: 'upgraded', generation: 1, published: { generation: 3 } });
    const got = objectIds(client);
    // The client had nothing: what it fetched is every object it now has, each requested once, as the dry run said.
    expect(r.fetched.objects).toBe(got.size);
    expect(r.fetched.bytes).toBe(objectBytes(client, got));
    // The newest generation's commit and trees came in its trees pack; every file was requested once.
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${r.published.commit}.trees`);
    const { files } = await reachable(client, [r.published.commit]);
    expect(objectRequests(nginx).sort()).toEqual([...files.keys()].sort());
    expect(dry.fetched).toEqual(r.fetched);
    // The generation commit, not its package commits: the client needs the system, not the server's package history.
    expect(got.has(r.published.commit)).toBe(true);
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 3\n');
    const origin = JSON.parse(readFileSync(join(client, 'profiles/system/1.origin'), 'utf8'));
    expect(origin).toMatchObject({ remote: 'origin', url: nginx.url, profile: 'system', generation: 3, commit: r.published.commit });
    expect(await troveOk(client, 'gen', 'list')).toContain('(from origin generation 3)');
    await troveOk(client, 'fsck');
  });

  it('upgrade when the newest published generation is active: up to date, nothing fetched or recorded', async () => {
    nginx.clearLog();
    const before = generationFiles(client);
    const r = await cli('upgrade');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('system: up to date with origin generation 3');
    expect(objectRequests(nginx)).toEqual([]);
    expect(generationFiles(client)).toEqual(before);
  });

  it('a gen build on the published profile publishes it; status tells from the cached summary or with --remote-check', async () => {
    writeTree(src, 4);
    await troveOk(server, 'pkg', 'add', src, '--name', 'tool', '--arch', 'amd64', '--version', '1.4');
    await troveOk(server, 'gen', 'build', 'tool');
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    expect(summary.generations.system.map((g: { number: number }) => g.number)).toEqual([1, 2, 3, 4]);

    nginx.clearLog();
    const cached = await troveOk(client, 'status');
    expect(cached).toMatch(/^from {8}origin generation 3$/m);
    expect(cached).toMatch(/^published {3}up to date as of /m);
    expect(nginx.accessLog()).toEqual([]);
    const checked = await troveOk(client, 'status', '--remote-check');
    expect(checked).toMatch(/^published {3}newer: origin generation 4 \([0-9a-f]{12}\), as of .*; run trove upgrade$/m);
    const json = JSON.parse(await troveOk(client, 'status', '--json'));
    expect(json.origin).toMatchObject({ remote: 'origin', generation: 3 });
    expect(json.published).toMatchObject({ newer: true, newest: { generation: 4 } });
  });

  it('an upgrade fetches only the objects the client lacks', async () => {
    const before = objectIds(client);
    // The dry run reads the new trees beside the active generation's, and counts what the upgrade then fetches.
    const dry = JSON.parse(await troveOk(client, 'upgrade', '--dry-run', '--no-deltas', '--json'));
    expect(dry).toMatchObject({ state: 'dry-run', generation: null, published: { generation: 4 } });
    expect(objectIds(client)).toEqual(before);
    nginx.clearLog();
    // Object by object: the summary also wrote a pack from generation 3 to 4 (remote.md, "Deltas written by default").
    const r = JSON.parse(await troveOk(client, 'upgrade', '--no-deltas', '--json'));
    expect(r).toMatchObject({ state: 'upgraded', generation: 2, published: { generation: 4 } });
    const added = [...objectIds(client)].filter((id) => !before.has(id));
    expect(r.fetched.objects).toBe(added.length);
    expect(r.fetched.bytes).toBe(objectBytes(client, added));
    expect(dry.fetched).toEqual(r.fetched);
    expect(objectRequests(nginx).sort()).toEqual(added.sort());
    // Of file contents, only those gen 4 has and gen 3 had not came over (f3 is back to its original, f4
    // changed, bin/tool); the rest is the commit and trees.
    const contents = added.map((id) => readFileSync(join(client, 'objects', id.slice(0, 2), id.slice(2))));
    const files = ['share/data/f3', 'share/data/f4', 'bin/tool'].map((f) => readFileSync(join(src, f)));
    for (const f of files) expect(contents.filter((c) => c.equals(f))).toHaveLength(1);
    for (let i = 0; i < 40; i++) if (i !== 3 && i !== 4) expect(contents.some((c) => c.equals(readFileSync(join(src, 'share/data', `f${i}`))))).toBe(false);
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 4\n');
    expect(await troveOk(client, 'status')).toMatch(/^active {6}generation 2, .*\nfrom {8}origin generation 4\npublished {3}up to date/m);
  });

  it('rollback and switch work across upgraded and local generations; upgrade re-activates one it recorded', async () => {
    const local = join(base, 'local');
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, 'motd'), 'local\n');
    await troveOk(client, 'pkg', 'add', local, '--name', 'motd', '--arch', 'all', '--version', '1');
    await troveOk(client, 'gen', 'build', 'motd');
    await troveOk(client, 'switch', '3');
    expect(readFileSync(join(link, 'motd'), 'utf8')).toBe('local\n');
    expect((await troveOk(client, 'status'))).not.toContain('from ');
    await troveOk(client, 'rollback');
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 4\n');
    await troveOk(client, 'rollback');
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 3\n');
    await troveOk(client, 'switch', '3');
    const before = generationFiles(client);
    const r = JSON.parse(await troveOk(client, 'upgrade', '--json'));
    expect(r).toMatchObject({ state: 'activated', generation: 2, fetched: { objects: 0, bytes: 0 } });
    expect(generationFiles(client)).toEqual(before);
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 4\n');
    const list = await troveOk(client, 'gen', 'list');
    expect(list).toMatch(/\* {4}2 .*\(from origin generation 4\)/);
    expect(list).toMatch(/^ {5}3 .*\+motd-all-1-1 -tool-amd64-1.4-4$/m);
  });

  it('install into an upgraded generation keeps its packages: their commits come from the remote it came from', async () => {
    // Generation 2 (origin generation 4) is active; the client has its merged tree, not the server's package commit of tool.
    const tool = readFileSync(join(server, 'refs/heads/pkg/tool/amd64'), 'utf8').trim();
    expect(objectIds(client).has(tool)).toBe(false);
    const dry = JSON.parse(await troveOk(client, 'install', 'motd', '--dry-run', '--json'));
    expect(dry.plan.objects).toBeGreaterThan(0);
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'install', 'motd', '--link', link, '--json'));
    // The package commit and its trees came in its trees pack; only files went one by one.
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${tool}.trees`);
    expect(objectRequests(nginx)).not.toContain(tool);
    expect(objectIds(client).has(tool)).toBe(true);
    expect(r.fetched).toEqual({ objects: dry.plan.objects, bytes: dry.plan.bytes });
    expect(r.install.packages).toEqual(['motd-all-1-1', 'tool-amd64-1.4-4']);
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 4\n');
    expect(readFileSync(join(link, 'motd'), 'utf8')).toBe('local\n');
    await troveOk(client, 'fsck');
    await troveOk(client, 'rollback', '--to', '2');
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 4\n');
    expect(existsSync(join(link, 'motd'))).toBe(false);
  });

  it('a summary with a malformed generations key is refused and nothing changes', async () => {
    const good = readFileSync(join(server, 'summary'));
    const s = JSON.parse(good.toString('utf8'));
    const hostile = [
      [{ ...s, generations: { system: [{ number: 5, commit: 'not-an-id', timestamp: 1, packages: [] }] } }, 'holds no valid commit id'],
      [{ ...s, generations: { system: [{ number: -1, commit: '0'.repeat(64), timestamp: 1, packages: [] }] } }, 'has no valid number'],
      [{ ...s, generations: { '../x': [] } }, 'invalid profile name'],
      [{ ...s, generations: { system: [{ number: 5, commit: '0'.repeat(64), timestamp: 1, packages: [7] }] } }, 'has no valid package list'],
      [{ ...s, generations: [] }, 'generations is not an object of profiles'],
    ] as const;
    const before = generationFiles(client);
    const target = readlinkSync(link);
    const objects = objectIds(client).size;
    try {
      for (const [summary, message] of hostile) {
        writeFileSync(join(server, 'summary'), `${JSON.stringify(summary)}\n`);
        const r = await cli('upgrade');
        expect(r.code).toBe(5);
        expect(r.stderr).toContain(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(generationFiles(client)).toEqual(before);
        expect(readlinkSync(link)).toBe(target);
        expect(objectIds(client).size).toBe(objects);
      }
    } finally {
      writeFileSync(join(server, 'summary'), good);
    }
  });

  it('no remote named and several configured, none origin: a usage error', async () => {
    const dir = tmpdir('trove-upgrade-remotes');
    const repo = join(dir, 'repo');
    await troveOk(repo, 'init');
    await troveOk(repo, 'remote', 'add', 'a', server);
    await troveOk(repo, 'remote', 'add', 'b', server);
    const r = await trove(['--repo', repo, 'upgrade']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('several remotes and none is named origin (a, b)');
    const unpublished = await trove(['--repo', repo, 'upgrade', '--remote', 'a', '--profile', 'other']);
    expect(unpublished.code).toBe(3);
    expect(unpublished.stderr).toContain('remote a publishes no generations of profile other (it publishes system)');
  });
});

describe('upgrade from a signed summary', () => {
  const base = tmpdir('trove-upgrade-signed');
  const server = join(base, 'server');
  const src = join(base, 'src');
  const client = join(base, 'client');
  const key = join(base, 'key');
  const other = join(base, 'other');
  let nginx: Nginx;

  beforeAll(async () => {
    await Repo.init(server).then((r) => r.close());
    for (let v = 1; v <= 2; v++) await buildVersion(server, src, v);
    await troveOk(server, 'keygen', '--out', key);
    await troveOk(server, 'keygen', '--out', other);
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => nginx?.stop());

  it('verifies the summary that names the generation; a summary signed by another key is refused', async () => {
    await troveOk(server, 'gen', 'publish', '--summary-key', key);
    expect(existsSync(join(server, 'summary.sig'))).toBe(true);
    const link = join(base, 'ro');
    const r = JSON.parse(await troveOk(client, 'upgrade', '--link', link, '--json'));
    expect(r).toMatchObject({ state: 'upgraded', generation: 1, published: { generation: 2 } });
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('tool 2\n');

    // A new generation, summary signed by a key the client does not trust.
    writeTree(src, 3);
    await troveOk(server, 'pkg', 'add', src, '--name', 'tool', '--arch', 'amd64', '--version', '1.3', '--summary-key', other);
    await troveOk(server, 'gen', 'build', 'tool', '--summary-key', other);
    const objects = objectIds(client).size;
    const refused = await trove(['--repo', client, 'upgrade']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('summary of remote origin');
    expect(objectIds(client).size).toBe(objects);
    expect(generationFiles(client).filter((f) => /^\d+$/.test(f))).toEqual(['1']);

    await troveOk(server, 'summary', '--key', key);
    const ok = JSON.parse(await troveOk(client, 'upgrade', '--json'));
    expect(ok).toMatchObject({ state: 'upgraded', generation: 2, published: { generation: 3 } });
  });
});
