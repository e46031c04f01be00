import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, startNginx, objectRequests } from './helpers/nginx.js';
import { expectSameContent } from './helpers/fstree.js';
import { trove, troveOk, TROVE_BIN } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds, reachable } from './helpers/objects.js';
import { readTreesPack } from '../src/remote/trees-pack.js';


/** Every file under refs/, by path, with its content. */
function refFiles(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(repo, 'refs'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[relative(join(repo, 'refs'), path)] = readFileSync(path, 'utf8');
  }
  return out;
}

/** A small system-like tree: nested directories, a 2 MiB file, a symlink, an empty directory. */
function makeTree(dir: string): void {
  for (const d of ['etc', 'usr/bin', 'usr/share/doc/a', 'usr/share/doc/b', 'var/empty']) mkdirSync(join(dir, d), { recursive: true });
  for (let i = 0; i < 20; i++) {
    writeFileSync(join(dir, 'usr/bin', `tool${i}`), `#!/bin/sh\necho tool ${i}\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'usr/share/doc/a', `doc${i}`), `doc a ${i}\n`.repeat(i + 1));
    writeFileSync(join(dir, 'usr/share/doc/b', `doc${i}`), `doc b ${i}\n`);
  }
  writeFileSync(join(dir, 'etc/os-release'), 'ID=test\nVERSION_ID=1\n');
  writeFileSync(join(dir, 'usr/share/big'), Buffer.alloc(2 << 20, 7));
  symlinkSync('../usr/bin/tool1', join(dir, 'etc/tool'));
}

describe('pull from a repository served by nginx', () => {
  const base = tmpdir('trove-pull');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const client = join(base, 'client');
  let nginx: Nginx;

  beforeAll(async () => {
    makeTree(src);
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'one');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('fetches every object of a new ref, verified, and the result checks out as the source', async () => {
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'os/main', '--json'));
    const want = objectIds(server);
    expect(objectIds(client)).toEqual(want);
    expect(r.fetched.objects).toBe(want.size);
    expect(r.refs[0]).toMatchObject({ ref: 'os/main', local: 'refs/remotes/origin/os/main', previous: null });
    expect(readFileSync(join(client, 'refs/remotes/origin/os/main'), 'utf8')).toBe(readFileSync(join(server, 'refs/heads/os/main'), 'utf8'));
    // Each object was requested once: nothing is fetched twice within a pull. A first pull takes the
    // commit and trees from the tip's trees pack the summary gives (remote.md, "Trees packs").
    const tip = readFileSync(join(server, 'refs/heads/os/main'), 'utf8').trim();
    const { metas, files } = await reachable(server, [tip]);
    expect(nginx.accessLog().map((l) => l.path)).toContain(`/packages/${tip}.trees`);
    expect(objectRequests(nginx).sort()).toEqual([...files.keys()].sort());
    expect(new Set([...metas.keys(), ...files.keys()])).toEqual(want);
    // Executables' objects are 0755 on both sides, so hard-link checkouts need no per-mode copies.
    const modes = (repo: string) => [...objectIds(repo)].map((id) => `${id} ${(statSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))).mode & 0o777).toString(8)}`).sort();
    expect(modes(client)).toEqual(modes(server));
    expect(modes(client).some((m) => m.endsWith(' 755'))).toBe(true);
    await troveOk(client, 'fsck');
    await troveOk(client, 'checkout', 'remotes/origin/os/main', join(base, 'co1'));
    expectSameContent(src, join(base, 'co1'));
  });

  it('an update fetches exactly the objects that changed, skipping unchanged subtrees', async () => {
    writeFileSync(join(src, 'usr/share/doc/a/doc3'), 'changed\n');
    writeFileSync(join(src, 'etc/new'), 'new file\n');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'two');
    await troveOk(server, 'summary');
    const before = objectIds(client);
    const added = [...objectIds(server)].filter((id) => !before.has(id));
    // commit, root, etc, usr, usr/share, usr/share/doc, usr/share/doc/a, two blobs
    expect(added).toHaveLength(9);
    nginx.clearLog();
    // Object by object (the summary also wrote a pack from the previous tip: pull-delta.test.ts, auto-delta.test.ts).
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', '--no-deltas', '--json'));
    expect(objectRequests(nginx).sort()).toEqual(added.sort());
    expect(r.fetched.objects).toBe(added.length);
    expect(r.transfer.requests).toBe(added.length + 1); // and the summary
    expect(r.refs[0].previous).not.toBeNull();
    expect(objectIds(client)).toEqual(objectIds(server));
    await troveOk(client, 'fsck');
  });

  it('a pull with nothing new reads only the summary', async () => {
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'os/main', '--json'));
    expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary']);
    expect(r.fetched.objects).toBe(0);
  });

  it('an unknown ref is a clear not-found error and moves nothing', async () => {
    // os/main has moved on the server: a pull that went ahead with the known ref would move it.
    writeFileSync(join(src, 'etc/motd'), 'welcome\n');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'three');
    await troveOk(server, 'summary');
    const objectsBefore = objectIds(client);
    const refsBefore = refFiles(client);
    expect(Object.keys(refsBefore)).toContain('remotes/origin/os/main');
    nginx.clearLog();
    const r = await trove(['--repo', client, 'pull', 'origin', 'os/main', 'no/such']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/has no ref no\/such/);
    expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary']);
    expect(refFiles(client)).toEqual(refsBefore);
    expect(objectIds(client)).toEqual(objectsBefore);
  });

  it('prints one line per ref and a summary line without --json', async () => {
    const fresh = join(base, 'plain-output');
    await troveOk(fresh, 'init');
    await troveOk(fresh, 'remote', 'add', 'origin', nginx.url);
    const id = readFileSync(join(server, 'refs/heads/os/main'), 'utf8').trim();
    const first = (await troveOk(fresh, 'pull', 'origin', 'os/main')).split('\n');
    const n = objectIds(server).size;
    expect(first[0]).toBe(`refs/remotes/origin/os/main: new ${id.slice(0, 12)}`);
    // No delta pack fits (the server has none from nothing): the summary, the tip's trees pack (the
    // commits and trees of its history), and each file.
    const packed = await readTreesPack(readFileSync(join(server, 'packages', `${id}.trees`)), id, 'test');
    expect(first[1]).toMatch(new RegExp(`^fetched ${n} objects \\([0-9.]+ MiB\\); ${n - packed.size + 2} requests, [0-9.]+ MiB received in [0-9]+\\.[0-9]{2} s$`));
    expect(first.slice(2)).toEqual(['']);
    const again = (await troveOk(fresh, 'pull', 'origin', 'os/main')).split('\n');
    expect(again[0]).toBe('refs/remotes/origin/os/main: up to date');
    expect(again[1]).toMatch(/^fetched 0 objects \(0 B\); 1 requests, [0-9.]+ (B|KiB) received in [0-9]+\.[0-9]{2} s$/);
  });

  it('a mirror copies refs into refs/heads and can be served in turn', async () => {
    const mirror = join(base, 'mirror');
    await troveOk(mirror, 'init');
    await troveOk(mirror, 'remote', 'add', 'up', nginx.url);
    await troveOk(mirror, 'pull', '--mirror', 'up');
    expect(readFileSync(join(mirror, 'refs/heads/os/main'), 'utf8')).toBe(readFileSync(join(server, 'refs/heads/os/main'), 'utf8'));
    await troveOk(mirror, 'summary');
    const second = await startNginx(mirror);
    try {
      const leaf = join(base, 'leaf');
      await troveOk(leaf, 'init');
      await troveOk(leaf, 'remote', 'add', 'm', second.url);
      await troveOk(leaf, 'pull', 'm', 'os/main');
      expect(objectIds(leaf)).toEqual(objectIds(server));
      await troveOk(leaf, 'fsck');
    } finally {
      await second.stop();
    }
  });

  it('takes objects precompressed by summary --gzip-objects, verifying what they decompress to', async () => {
    // No trees pack: commits and trees come one by one too, precompressed like the files.
    const out = JSON.parse(await troveOk(server, 'summary', '--gzip-objects', '--no-trees-packs', '--json'));
    expect(out.treesPacks).toBeUndefined();
    expect(out.gzipObjects.written).toBeGreaterThanOrEqual(5);
    // Incremental: a second run compresses nothing new.
    expect(JSON.parse(await troveOk(server, 'summary', '--gzip-objects', '--no-trees-packs', '--json')).gzipObjects.written).toBe(0);
    const gz = await startNginx(server, { gzipStatic: true });
    try {
      const copy = join(base, 'gz');
      await troveOk(copy, 'init');
      await troveOk(copy, 'remote', 'add', 'origin', gz.url);
      const r = JSON.parse(await troveOk(copy, 'pull', 'origin', 'os/main', '--no-deltas', '--json'));
      expect(objectIds(copy)).toEqual(objectIds(server));
      expect(r.transfer.bytes).toBeLessThan(r.fetched.bytes / 2);
      await troveOk(copy, 'fsck');
      // A .gz holding other bytes is caught by the hash of what it decompresses to.
      const victim = [...objectIds(server)].find((id) => readdirSync(join(server, 'objects', id.slice(0, 2))).includes(`${id.slice(2)}.gz`))!;
      const other = [...objectIds(server)].find((id) => id !== victim && readdirSync(join(server, 'objects', id.slice(0, 2))).includes(`${id.slice(2)}.gz`))!;
      const gzPath = (id: string) => join(server, 'objects', id.slice(0, 2), `${id.slice(2)}.gz`);
      const saved = readFileSync(gzPath(victim));
      writeFileSync(gzPath(victim), readFileSync(gzPath(other)));
      try {
        const fresh = join(base, 'gz2');
        await troveOk(fresh, 'init');
        await troveOk(fresh, 'remote', 'add', 'origin', gz.url);
        const bad = await trove(['--repo', fresh, 'pull', 'origin', 'os/main', '--no-deltas', '--retries', '1']);
        expect(bad.code).toBe(5);
        expect(bad.stderr).toMatch(new RegExp(`wrong bytes for object ${victim}`));
        expect(objectIds(fresh).has(victim)).toBe(false);
      } finally {
        writeFileSync(gzPath(victim), saved);
      }
    } finally {
      await gz.stop();
    }
  });

  it('pulls from a plain directory path, and by refs/heads files when there is no summary', async () => {
    const copy = join(base, 'bare');
    await troveOk(copy, 'init');
    await troveOk(copy, 'remote', 'add', 'disk', server);
    rmSync(join(server, 'summary'));
    try {
      const none = await trove(['--repo', copy, 'pull', 'disk']);
      expect(none.code).toBe(3);
      expect(none.stderr).toMatch(/no summary/);
      await troveOk(copy, 'pull', 'disk', 'os/main');
      expect(objectIds(copy)).toEqual(objectIds(server));
      await troveOk(copy, 'fsck');
    } finally {
      await troveOk(server, 'summary');
    }
  });
});

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`), so stderr is a TTY; returns everything it wrote, escapes stripped.
 * A real process: the progress bar is drawn only on a real terminal, which an in-process run does not have.
 */
function troveOnTerminal(repo: string, ...args: string[]): { code: number; output: string } {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, TROVE_BIN, '--repo', repo, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TROVE_REPO: undefined } });
  if (r.error) throw new Error(`cannot run script(1) from util-linux: ${r.error.message}`);
  return { code: r.status ?? 128, output: r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
}

describe('pull progress on a terminal', () => {
  const base = tmpdir('trove-pull-tty');
  const src = join(base, 'src');
  const server = join(base, 'server');
  let nginx: Nginx;
  let packName = '';

  const client = async (name: string) => {
    const dir = join(base, name);
    await troveOk(dir, 'init');
    await troveOk(dir, 'remote', 'add', 'origin', nginx.url);
    return dir;
  };
  const summaryLine = /fetched \d+ objects \([0-9.]+ (B|KiB|MiB)\)(?: via 1 delta)?; \d+ requests, [0-9.]+ (B|KiB|MiB) received in [0-9.]+ s/;

  beforeAll(async () => {
    makeTree(src);
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'one');
    packName = JSON.parse(await troveOk(server, 'delta', '--from-empty', 'os/main', '--json')).path.slice('deltas/'.length);
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
  });
  afterAll(async () => nginx?.stop());

  it('shows objects against objects wanted during an object pull, then the summary line', async () => {
    const dir = await client('objects');
    const r = troveOnTerminal(dir, 'pull', 'origin', '--no-deltas');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/objects \[[^\]]*\] \d+\/\d+ objects \| [0-9.]+ (B|KiB|MiB) \| [0-9.]+ (B|KiB|MiB)\/s/);
    expect(r.output).toMatch(new RegExp(`objects \\[[^\\]]*\\] ${objectIds(server).size}/${objectIds(server).size} objects`));
    expect(r.output).toMatch(summaryLine);
  });

  it('shows bytes against the pack size during a delta, never bytes labelled as objects', async () => {
    const dir = await client('delta');
    const r = troveOnTerminal(dir, 'pull', 'origin');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/delta \[[^\]]*\] [0-9.]+ (B|KiB|MiB)\/[0-9.]+ (KiB|MiB) \(\d+ objects\) \|/);
    expect(r.output).not.toMatch(/delta \[[^\]]*\] \d+\/\d+ objects/);
    expect(r.output).toMatch(summaryLine);
    expect(r.output).toMatch(/via 1 delta/);
  });

  it('after a failed delta, prints the notice and shows the object phase again', async () => {
    const path = join(server, 'deltas', packName);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    for (let i = 40; i < bad.length - 20; i += 50) bad[i]! ^= 0xff;
    writeFileSync(path, bad);
    try {
      const dir = await client('fallback');
      const r = troveOnTerminal(dir, 'pull', 'origin');
      expect(r.code, r.output).toBe(0);
      const notice = r.output.indexOf(`trove: delta ${packName} failed`);
      expect(notice).toBeGreaterThanOrEqual(0);
      expect(r.output.slice(notice)).toMatch(/objects \[[^\]]*\] \d+\/\d+ objects/);
      expect(r.output).toMatch(summaryLine);
    } finally {
      writeFileSync(path, good);
    }
  });
});
