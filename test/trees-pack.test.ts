import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSummary } from '../src/remote/summary.js';
import { readTreesPack } from '../src/remote/trees-pack.js';
import { trove, troveOk } from './helpers/cli.js';
import { type Nginx, objectRequests, startNginx } from './helpers/nginx.js';
import { objectIds, reachable } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A directory package with files `{path: content}`. */
function dirPackage(base: string, name: string, files: Record<string, string>): string {
  const dir = join(base, 'src', name);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

/** A pack as trees-pack.ts frames it (TRVPACK1), of `frames` [kind byte, id, bytes], gzip-compressed. */
function packOf(frames: [number, string, Buffer][], count = frames.length): Buffer {
  const head = Buffer.alloc(12);
  Buffer.from('TRVPACK1').copy(head);
  head.writeUInt32BE(count, 8);
  const parts: Buffer[] = [head];
  for (const [kind, id, bytes] of frames) {
    const f = Buffer.alloc(41);
    f[0] = kind;
    Buffer.from(id, 'hex').copy(f, 1);
    f.writeBigUInt64BE(BigInt(bytes.length), 33);
    parts.push(f, bytes);
  }
  parts.push(Buffer.from([0]));
  return gzipSync(Buffer.concat(parts));
}

/** A new repository at `dir` with `url` as its remote origin. */
async function newClient(dir: string, url: string): Promise<string> {
  await troveOk(dir, 'init');
  await troveOk(dir, 'remote', 'add', 'origin', url);
  return dir;
}

/** Checks that trees pack `bytes` holds exactly the commits and trees `commit` reaches on `server`, with their sizes. */
async function expectPackOf(bytes: Buffer, commit: string, server: string): Promise<void> {
  const { metas } = await reachable(server, [commit]);
  expect(new Map([...(await readTreesPack(bytes, commit, 'test'))].map(([id, b]) => [id, b.length]))).toEqual(metas);
}

interface IndexEntry {
  name: string;
  commit: string;
  treesPack?: number;
}

describe('trees packs: a package’s commit and trees in one request', () => {
  const base = tmpdir('trove-trees-pack');
  const server = join(base, 'server');
  let nginx: Nginx;
  let index: IndexEntry[];
  const commitOf = (name: string) => index.find((e) => e.name === name)!.commit;
  const packPath = (name: string) => join(server, 'packages', `${commitOf(name)}.trees`);

  beforeAll(async () => {
    await troveOk(server, 'init');
    const deep: Record<string, string> = {};
    for (let i = 0; i < 4; i++) deep[`usr/share/deep/a${i}/b/c/d/e/f${i}`] = `deep ${i}\n`;
    deep['usr/bin/deep'] = '#!/bin/sh\necho deep\n';
    const deepDir = dirPackage(base, 'deep', deep);
    // An empty directory: the empty tree, zero bytes, comes in the pack like any other.
    mkdirSync(join(deepDir, 'var/lib/deep'), { recursive: true });
    await troveOk(server, 'pkg', 'add', deepDir, '--name', 'deep', '--arch', 'amd64', '--version', '1', '--depends', 'libdeep');
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'libdeep', { 'usr/lib/deep/libdeep.so': 'lib\n' }), '--name', 'libdeep', '--arch', 'amd64', '--version', '1');
    await troveOk(server, 'summary');
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    index = JSON.parse(readFileSync(join(server, 'packages', summary.packages.index), 'utf8')).packages;
    nginx = await startNginx(server);
  });
  afterAll(async () => nginx?.stop());

  const client = (name: string) => newClient(join(base, name), nginx.url);

  it('trove summary writes a trees pack per indexed commit, holding its commit and trees, and the index gives its size', async () => {
    expect(index.map((e) => e.name).sort()).toEqual(['deep', 'libdeep']);
    for (const e of index) {
      const bytes = readFileSync(packPath(e.name));
      expect(e.treesPack).toBe(bytes.length);
      await expectPackOf(bytes, e.commit, server);
    }
    // deep: its commit and 16 trees (usr, bin, share, deep, four a*/b/c/d/e chains, ...), all in one file.
    expect((await readTreesPack(readFileSync(packPath('deep')), commitOf('deep'), 'test')).size).toBeGreaterThan(20);
  });

  it('a client keeps of a pack only what its commit reaches: an extra object, verified, is dropped', async () => {
    const { metas } = await reachable(server, [commitOf('libdeep')]);
    const frames: [number, string, Buffer][] = [...metas.keys()].map((id) => [id === commitOf('libdeep') ? 3 : 2, id, readFileSync(join(server, 'objects', id.slice(0, 2), id.slice(2)))]);
    const extra = Buffer.from('an extra object, hashing to its id');
    const got = await readTreesPack(packOf([...frames, [2, sha256(extra), extra]]), commitOf('libdeep'), 'test');
    expect([...got.keys()].sort()).toEqual([...metas.keys()].sort());
    // The same objects without the commit: refused.
    await expect(readTreesPack(packOf(frames.filter(([k]) => k !== 3)), commitOf('libdeep'), 'test')).rejects.toThrow(/lacks its commit/);
  });

  it('a client refuses a pack badly framed in any way, naming what is wrong', async () => {
    const { metas } = await reachable(server, [commitOf('libdeep')]);
    const frames: [number, string, Buffer][] = [...metas.keys()].map((id) => [id === commitOf('libdeep') ? 3 : 2, id, readFileSync(join(server, 'objects', id.slice(0, 2), id.slice(2)))]);
    const raw = gunzipSync(packOf(frames));
    const refused = (bytes: Buffer, why: RegExp) => expect(readTreesPack(gzipSync(bytes), commitOf('libdeep'), 'test')).rejects.toThrow(why);
    // The pack as framed is taken: each case below changes one thing.
    expect((await readTreesPack(gzipSync(raw), commitOf('libdeep'), 'test')).size).toBe(metas.size);
    await refused(raw.subarray(0, raw.length - 2), /trees pack refused: pack is truncated/);
    await refused(raw.subarray(0, 30), /pack is truncated/);
    await refused(Buffer.concat([raw, Buffer.from([7])]), /object count or end does not match/);
    const magic = Buffer.from(raw);
    magic.write('TRVPACK2', 0);
    await refused(magic, /it holds patches/);
    magic.write('NOTAPACK', 0);
    await refused(magic, /bad magic/);
    const count = Buffer.from(raw);
    count.writeUInt32BE(metas.size + 1, 8);
    await refused(count, /object count or end does not match/);
    const kind = Buffer.from(raw);
    kind[12] = 9;
    await refused(kind, /unknown object kind 9/);
    const blob = Buffer.from('a blob in a trees pack');
    await refused(gunzipSync(packOf([...frames, [1, sha256(blob), blob]])), /holds blob/);
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 2]! ^= 1;
    await refused(flipped, /does not hash to its id/);
    await expect(readTreesPack(raw, commitOf('libdeep'), 'test')).rejects.toThrow(/does not inflate/);
  });

  it('install requests each package’s trees pack and its files: no commit or tree one by one', async () => {
    const c = await client('client-plain');
    nginx.clearLog();
    const r = JSON.parse(await troveOk(c, 'install', 'deep', '--link', join(base, 'ro-plain'), '--json'));
    expect(r.install.packages).toEqual(['deep-amd64-1-1', 'libdeep-amd64-1-1']);
    const want = await reachable(server, [commitOf('deep'), commitOf('libdeep')]);
    expect(objectRequests(nginx).sort()).toEqual([...want.files.keys()].sort());
    const packs = nginx
      .accessLog()
      .map((l) => l.path)
      .filter((p) => p.endsWith('.trees'));
    expect(packs.sort()).toEqual([`/packages/${commitOf('deep')}.trees`, `/packages/${commitOf('libdeep')}.trees`].sort());
    // Every commit and tree is stored as if fetched one by one, and the store checks clean.
    for (const id of [...want.metas.keys(), ...want.files.keys()]) expect(objectIds(c).has(id)).toBe(true);
    expect(r.fetched.objects).toBe(want.metas.size + want.files.size);
    expect(readFileSync(join(base, 'ro-plain/usr/share/deep/a3/b/c/d/e/f3'), 'utf8')).toBe('deep 3\n');
    await troveOk(c, 'fsck');
  });

  it('install --lazy fetches the two trees packs and nothing else', async () => {
    const c = await client('client-lazy');
    nginx.clearLog();
    await troveOk(c, 'install', 'deep', '--lazy', '--no-switch', '--json');
    const paths = nginx.accessLog().map((l) => l.path);
    expect(paths.filter((p) => p.startsWith('/objects/'))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.trees'))).toHaveLength(2);
    const want = await reachable(server, [commitOf('deep'), commitOf('libdeep')]);
    for (const id of want.metas.keys()) expect(objectIds(c).has(id)).toBe(true);
    for (const id of want.files.keys()) expect(objectIds(c).has(id)).toBe(false);
  });

  describe.each([
    ['an object whose bytes do not hash to its id', () => packOf([[2, sha256('x'), Buffer.from('not x')]]), /does not hash to its id/],
    ['a blob', () => packOf([[1, sha256('deep 0\n'), Buffer.from('deep 0\n')]]), /holds blob/],
    ['bytes that do not inflate', () => Buffer.from('TRVPACK1 not gzip at all'), /does not inflate/],
    ['a pack cut short', () => packOf([[2, sha256('x'), Buffer.from('x')]]).subarray(0, 20), /does not inflate/],
    ['a count its frames do not match', () => packOf([], 3), /object count or end/],
    ['another package’s pack', () => readFileSync(packPath('libdeep')), /lacks its commit/],
    ['no pack at all (404)', () => null, /is not served/],
  ])('a trees pack replaced by %s', (_what, make, message) => {
    it('is set aside with a notice; the trees come one by one, nothing else is stored, the install succeeds', async () => {
      const path = packPath('deep');
      const good = readFileSync(path);
      let generation = '';
      const bad = make();
      const c = await client(`client-${sha256(_what).slice(0, 8)}`);
      try {
        if (bad === null) rmSync(path);
        else writeFileSync(path, bad);
        nginx.clearLog();
        const r = await trove(['--repo', c, 'install', 'deep', '--no-switch', '--retries', '0', '--json']);
        expect(r.code, r.stderr).toBe(0);
        generation = JSON.parse(r.stdout).install.commit;
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/fetching its trees one by one/);
      } finally {
        writeFileSync(path, good);
      }
      const deep = await reachable(server, [commitOf('deep')]);
      const lib = await reachable(server, [commitOf('libdeep')]);
      // deep's commit and trees were requested one by one; libdeep's came in its pack.
      const requested = new Set(objectRequests(nginx));
      for (const id of deep.metas.keys()) expect(requested.has(id)).toBe(true);
      for (const id of lib.metas.keys()) expect(requested.has(id)).toBe(false);
      // Stored: the two packages and the generation built of them (its commit and merged trees), nothing else.
      const gen = await reachable(c, [generation]);
      const all = new Set([...deep.metas.keys(), ...deep.files.keys(), ...lib.metas.keys(), ...lib.files.keys(), ...gen.metas.keys()]);
      expect([...objectIds(c)].filter((id) => !all.has(id))).toEqual([]);
      expect(objectIds(c).size).toBe(all.size);
      await troveOk(c, 'fsck');
    });
  });

  it('a summary after a package moved on keeps the old commit’s pack while the previous index lists it, then drops it', async () => {
    const old = commitOf('libdeep');
    // pkg add rewrites the summary it finds.
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'libdeep2', { 'usr/lib/deep/libdeep.so': 'lib 2\n' }), '--name', 'libdeep', '--arch', 'amd64', '--version', '2');
    const s = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    const now = (JSON.parse(readFileSync(join(server, 'packages', s.packages.index), 'utf8')).packages as IndexEntry[]).find((e) => e.name === 'libdeep')!;
    expect(now.commit).not.toBe(old);
    expect(statSync(join(server, 'packages', `${now.commit}.trees`)).size).toBe(now.treesPack);
    // The new revision's pack holds its history too (a pull keeps it): the old commit and its trees.
    const history = await readTreesPack(readFileSync(join(server, 'packages', `${now.commit}.trees`)), now.commit, 'test');
    const { metas: oldMetas } = await reachable(server, [old]);
    for (const id of oldMetas.keys()) expect(history.has(id)).toBe(true);
    // The previous summary's index lists the old commit: a client may be reading it right now.
    expect(statSync(join(server, 'packages', `${old}.trees`)).isFile()).toBe(true);
    await troveOk(server, 'summary');
    expect(() => statSync(join(server, 'packages', `${old}.trees`))).toThrow(/ENOENT/);
    expect(statSync(join(server, 'packages', `${now.commit}.trees`)).isFile()).toBe(true);
  });
});

describe('trees packs of published generations: a first upgrade learns the whole tree in one request', () => {
  const base = tmpdir('trove-trees-pack-gen');
  const server = join(base, 'server');
  let nginx: Nginx;
  let gens: { number: number; commit: string; treesPack?: number }[];

  beforeAll(async () => {
    await troveOk(server, 'init');
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`usr/share/gen/d${i}/e/f`] = `gen file ${i}\n`;
    for (const v of [1, 2]) {
      await troveOk(server, 'pkg', 'add', dirPackage(base, `tool${v}`, { ...files, 'usr/bin/tool': `tool ${v}\n` }), '--name', 'tool', '--arch', 'amd64', '--version', String(v));
      await troveOk(server, 'gen', 'build', 'tool');
    }
    await troveOk(server, 'gen', 'publish');
    gens = JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).generations.system;
    nginx = await startNginx(server);
  });
  afterAll(async () => nginx?.stop());

  const client = (name: string) => newClient(join(base, name), nginx.url);

  it('the summary gives the newest generation’s trees pack, and only its', async () => {
    expect(gens.map((g) => g.number)).toEqual([1, 2]);
    expect(gens[0]!.treesPack).toBeUndefined();
    const newest = gens[1]!;
    const bytes = readFileSync(join(server, 'packages', `${newest.commit}.trees`));
    expect(newest.treesPack).toBe(bytes.length);
    await expectPackOf(bytes, newest.commit, server);
  });

  it('upgrade fetches the pack and the files, and no commit or tree one by one', async () => {
    const c = await client('client-up');
    nginx.clearLog();
    const r = JSON.parse(await troveOk(c, 'upgrade', '--link', join(base, 'ro-up'), '--no-deltas', '--json'));
    expect(r.published.commit).toBe(gens[1]!.commit);
    const { metas, files } = await reachable(server, [gens[1]!.commit]);
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${gens[1]!.commit}.trees`);
    expect(objectRequests(nginx).sort()).toEqual([...files.keys()].sort());
    for (const id of [...metas.keys(), ...files.keys()]) expect(objectIds(c).has(id)).toBe(true);
    await troveOk(c, 'fsck');
  });

  it('a bad pack is set aside with a notice, and the trees come one by one', async () => {
    const path = join(server, 'packages', `${gens[1]!.commit}.trees`);
    const good = readFileSync(path);
    const c = await client('client-bad');
    try {
      writeFileSync(path, packOf([[2, sha256('x'), Buffer.from('y')]]));
      nginx.clearLog();
      const r = await trove(['--repo', c, 'upgrade', '--link', join(base, 'ro-bad'), '--no-deltas', '--retries', '0']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/does not hash to its id; fetching its trees one by one/);
    } finally {
      writeFileSync(path, good);
    }
    const { metas } = await reachable(server, [gens[1]!.commit]);
    const requested = new Set(objectRequests(nginx));
    for (const id of metas.keys()) expect(requested.has(id)).toBe(true);
    expect(objectIds(c).has(sha256('x'))).toBe(false);
    await troveOk(c, 'fsck');
  });

  it('pull --mirror copies the pack; a newer generation’s summary drops the old one’s pack once no kept summary gives it', async () => {
    const mirror = await client('mirror');
    await troveOk(mirror, 'pull', 'origin', '--mirror');
    expect(readFileSync(join(mirror, 'packages', `${gens[1]!.commit}.trees`))).toEqual(readFileSync(join(server, 'packages', `${gens[1]!.commit}.trees`)));
    const old = gens[1]!.commit;
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'tool3', { 'usr/bin/tool': 'tool 3\n' }), '--name', 'tool', '--arch', 'amd64', '--version', '3');
    await troveOk(server, 'gen', 'build', 'tool');
    const newest = (JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).generations.system as typeof gens).at(-1)!;
    expect(newest.number).toBe(3);
    expect(statSync(join(server, 'packages', `${newest.commit}.trees`)).size).toBe(newest.treesPack);
    // The summary before gave the old one's: kept while a client may read that summary.
    expect(statSync(join(server, 'packages', `${old}.trees`)).isFile()).toBe(true);
    await troveOk(server, 'summary');
    expect(() => statSync(join(server, 'packages', `${old}.trees`))).toThrow(/ENOENT/);
    // The mirror follows: it keeps the old pack while its previous summary gives it, then drops it.
    await troveOk(mirror, 'pull', 'origin', '--mirror');
    expect(readFileSync(join(mirror, 'packages', `${newest.commit}.trees`)).length).toBe(newest.treesPack);
    expect(statSync(join(mirror, 'packages', `${old}.trees`)).isFile()).toBe(true);
    await troveOk(mirror, 'pull', 'origin', '--mirror');
    expect(() => statSync(join(mirror, 'packages', `${old}.trees`))).toThrow(/ENOENT/);
    expect(statSync(join(mirror, 'packages', `${newest.commit}.trees`)).isFile()).toBe(true);
  });
});

describe('trees packs of ref tips: a first pull learns the whole tree in one request', () => {
  const base = tmpdir('trove-trees-pack-ref');
  const server = join(base, 'server');
  const src = join(base, 'tree');
  let nginx: Nginx;
  let tip: string;

  /** The tree under `src`: six directories three levels deep, one file each, and `top` saying `version`. */
  function writeSource(version: number): void {
    for (let i = 0; i < 6; i++) {
      mkdirSync(join(src, `d${i}`, 'e', 'f'), { recursive: true });
      writeFileSync(join(src, `d${i}`, 'e', 'f', 'file'), `file ${i}${i === 0 ? ` v${version}` : ''}\n`);
    }
    writeFileSync(join(src, 'top'), `version ${version}\n`);
  }

  beforeAll(async () => {
    await troveOk(server, 'init');
    writeSource(1);
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'v1');
    await troveOk(server, 'pkg', 'add', dirPackage(base, 'tool', { 'usr/bin/tool': 'tool\n' }), '--name', 'tool', '--arch', 'amd64', '--version', '1');
    await troveOk(server, 'summary');
    tip = readFileSync(join(server, 'refs', 'heads', 'main'), 'utf8').trim();
    nginx = await startNginx(server);
  });
  afterAll(async () => nginx?.stop());

  it('the summary gives the pack of each ref tip but package refs (whose the index gives), holding what the tip reaches', async () => {
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    const bytes = readFileSync(join(server, 'packages', `${tip}.trees`));
    expect(summary.treesPacks).toEqual({ [tip]: bytes.length });
    await expectPackOf(bytes, tip, server);
  });

  it('a first pull fetches the pack and the files, and no commit or tree one by one', async () => {
    const c = await newClient(join(base, 'client'), nginx.url);
    nginx.clearLog();
    await troveOk(c, 'pull', 'origin', 'main', '--no-deltas');
    const { metas, files } = await reachable(server, [tip]);
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${tip}.trees`);
    expect(objectRequests(nginx).sort()).toEqual([...files.keys()].sort());
    for (const id of [...metas.keys(), ...files.keys()]) expect(objectIds(c).has(id)).toBe(true);
    await troveOk(c, 'fsck');

    // The next pull, from a store that holds the old tip: only the new trees, one by one, no pack.
    writeSource(2);
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'v2');
    await troveOk(server, 'summary');
    const next = readFileSync(join(server, 'refs', 'heads', 'main'), 'utf8').trim();
    expect(JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).treesPacks).toEqual({ [next]: statSync(join(server, 'packages', `${next}.trees`)).size });
    const before = objectIds(c);
    nginx.clearLog();
    await troveOk(c, 'pull', 'origin', 'main', '--no-deltas');
    expect(nginx.accessLog().filter((l) => l.path.startsWith('/packages/'))).toEqual([]);
    // The commit, the root, d0, d0/e, d0/e/f and d0/e/f/file, the new top: seven objects.
    const added = [...objectIds(c)].filter((id) => !before.has(id));
    expect(added).toHaveLength(7);
    expect(objectRequests(nginx).sort()).toEqual(added.sort());
    await troveOk(c, 'fsck');
  });

  it('a summary that gives a pack for a commit no ref holds is refused whole', async () => {
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
    const forged = { ...summary, treesPacks: { ...summary.treesPacks, [sha256('not a tip')]: 10 } };
    expect(() => parseSummary(Buffer.from(JSON.stringify(forged)))).toThrow(/trees pack for .*which is no ref's commit/);
    const tooBig = { ...summary, treesPacks: Object.fromEntries(Object.keys(summary.treesPacks).map((id) => [id, 65 << 20])) };
    expect(() => parseSummary(Buffer.from(JSON.stringify(tooBig)))).toThrow(/no valid size for the trees pack/);
  });

  it('pull --mirror copies the pack of a ref tip', async () => {
    const mirror = await newClient(join(base, 'mirror'), nginx.url);
    await troveOk(mirror, 'pull', 'origin', '--mirror');
    const next = readFileSync(join(server, 'refs', 'heads', 'main'), 'utf8').trim();
    expect(readFileSync(join(mirror, 'packages', `${next}.trees`))).toEqual(readFileSync(join(server, 'packages', `${next}.trees`)));
  });
});
