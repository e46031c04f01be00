import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Linker, type LinkJob, LinkWorker, LinkWorkerFailed, NativeLinker, startLinker, SYMLINK_JOB } from '../src/repo/link-worker.js';
import { addonPath, loadAddon } from '../src/util/native-addon.js';
import { hashBytes } from '../src/util/hash.js';
import { Repo } from '../src/repo/repo.js';
import { checkout } from '../src/repo/checkout.js';
import { setAttributeSync } from 'fs-xattr';
import { TROVE_BIN, trove, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

/**
 * A tree of 1,600 files, more than a checkout links in its own thread
 * (512), so most are linked by the second thread: plain files, executables,
 * contents shared between a 0755 and a 0644 entry (one of them needs a
 * variant), a 0555 directory full of files (its mode is set only after its
 * links), files of another owner (as root) and symlinks, some of another owner.
 */
function makeTree(src: string): void {
  for (let d = 0; d < 40; d++) {
    const dir = join(src, `d${String(d).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 40; f++) {
      const file = join(dir, `f${f}`);
      // Every tenth content is shared with the next directory's file of the same name.
      writeFileSync(file, f % 10 === 0 ? `shared ${Math.floor(d / 2)} ${f}\n` : `d${d} f${f}\n`);
      if (f % 10 === 0 && d % 2 === 1) chmodSync(file, 0o755);
      else if (f % 7 === 0) chmodSync(file, 0o600);
      if (isRoot && f % 13 === 0) chownSync(file, 1000, 1000);
    }
    symlinkSync(`f${d % 40}`, join(dir, 'link'));
    // Symlinks of another owner (as root): their shared copies are made with the checkout's ids and then given the entry's.
    symlinkSync(`../d00/f${d % 5}`, join(dir, 'up'));
    if (isRoot && d % 3 === 0) lchownSync(join(dir, 'up'), 1000, 1000);
  }
  chmodSync(join(src, 'd39'), 0o555);
}

interface Entry {
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  content?: string;
}

/** Every entry below `root` by relative path: kind, mode, owner, and content or target. */
function snapshot(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
      out.set(r, {
        kind,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        content: kind === 'file' ? readFileSync(p, 'utf8') : kind === 'symlink' ? readlinkSync(p) : undefined,
      });
      if (kind === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}

describe('hard-link checkouts of more files than one thread links', () => {
  const dir = tmpdir('trove-checkout-worker');
  const src = join(dir, 'src');
  const repo = join(dir, 'repo');

  beforeAll(async () => {
    makeTree(src);
    expect((await trove(['init', '--repo', repo])).code).toBe(0);
    expect((await trove(['commit', src, '-r', 'main', '--repo', repo])).code).toBe(0);
  });

  const objectOf = (content: string) => {
    const id = hashBytes(Buffer.from(content));
    return join(repo, 'objects', id.slice(0, 2), id.slice(2));
  };

  it('gives every entry its committed kind, mode, owner and content, files as links, most made by the second thread', async () => {
    const out = join(dir, 'out');
    const r = await trove(['checkout', '--hardlink', '-v', 'main', out, '--repo', repo]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: 1600 files \(1600 linked, 0 copied\), 40 dirs, 80 symlinks$/m);
    const byWorker = Number(/checkout: (\d+) of the links made by a second thread/.exec(r.stderr)?.[1]);
    expect(byWorker).toBeGreaterThan(0);
    expect(byWorker).toBeLessThanOrEqual(1600 - 512);

    const want = snapshot(src);
    const got = snapshot(out);
    if (!isRoot) for (const e of want.values()) Object.assign(e, { uid: process.getuid!(), gid: process.getgid!() });
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [path, e] of want) expect({ path, ...got.get(path) }).toEqual({ path, ...e });
    // Links, not copies: each file shares its inode with the object or with a variant.
    for (const [path, e] of got) if (e.kind === 'file') expect(lstatSync(join(out, path)).nlink, path).toBeGreaterThan(1);
    // The shared contents: the object has one mode, so one of each pair is a variant (another inode).
    const a = lstatSync(join(out, 'd00/f0'));
    const b = lstatSync(join(out, 'd01/f0'));
    expect(a.ino).not.toBe(b.ino);
    expect([a.mode & 0o777, b.mode & 0o777]).toEqual([0o600, 0o755]);
  });

  it('the native link threads and the worker thread make the same checkout, symlinks linked from their shared copies', async () => {
    // npm test builds the addon (scripts/build-native.mjs); elsewhere the native kind falls back to the worker.
    if (process.env.CI) expect(loadAddon('linker'), `${addonPath('linker')} (npm test builds it)`).not.toBeNull();
    const r = await Repo.open(repo);
    try {
      const rev = (await r.refs.read('main'))!;
      const want = snapshot(src);
      if (!isRoot) for (const e of want.values()) Object.assign(e, { uid: process.getuid!(), gid: process.getgid!() });
      for (const linker of ['native', 'worker'] as const) {
        const out = join(dir, `by-${linker}`);
        const res = await checkout(r, rev, out, { hardlink: true, linker });
        expect(res.linked).toBe(1600);
        expect(res.linkedInWorker).toBeGreaterThan(0);
        expect(snapshot(out)).toEqual(want);
        // Every symlink is a link of the one shared copy under variants/ (one target per directory here).
        for (let d = 0; d < 40; d++) expect(lstatSync(join(out, `d${String(d).padStart(2, '0')}`, 'link')).nlink, `${linker} d${d}`).toBeGreaterThan(1);
      }
    } finally {
      await r.close();
    }
  });

  it('a missing object fails the checkout with E_CORRUPT and leaves no destination', async () => {
    const obj = objectOf('d38 f5\n');
    const saved = readFileSync(obj);
    const mode = lstatSync(obj).mode & 0o7777;
    rmSync(obj);
    try {
      const out = join(dir, 'missing');
      const r = await trove(['checkout', '--hardlink', 'main', out, '--repo', repo]);
      expect(r.stderr).toBe(`trove: object ${hashBytes(Buffer.from('d38 f5\n'))} is missing from the store\n`);
      expect(r.code).toBe(5);
      expect(existsSync(out)).toBe(false);
    } finally {
      writeFileSync(obj, saved, { mode });
      chmodSync(obj, mode);
    }
  });
});

describe('hard-link checkouts from another, and a walk that stops halfway', () => {
  const dir = tmpdir('trove-checkout-worker-from');
  const src = join(dir, 'src');
  const repoPath = join(dir, 'repo');

  it('a checkout from another that changes more than 512 files (and the modes of directories) is the checkout from nothing', async () => {
    makeTree(src);
    await troveOk(repoPath, 'init');
    await troveOk(repoPath, 'commit', src, '-r', 'a', '--no-xattrs');
    // 30 directories rewritten (1,200 files), two directories' modes changed, one of them to no write bit.
    chmodSync(join(src, 'd39'), 0o755);
    for (let d = 5; d < 35; d++) for (let f = 0; f < 40; f++) writeFileSync(join(src, `d${String(d).padStart(2, '0')}`, `f${f}`), `b: d${d} f${f}\n`);
    chmodSync(join(src, 'd05'), 0o550);
    await troveOk(repoPath, 'commit', src, '-r', 'b', '--no-xattrs');
    const repo = await Repo.open(repoPath);
    try {
      const a = (await repo.refs.read('a'))!;
      const b = (await repo.refs.read('b'))!;
      await checkout(repo, a, join(dir, 'a'), { hardlink: true });
      const r = await checkout(repo, b, join(dir, 'b-from-a'), { hardlink: true, from: { dir: join(dir, 'a'), commit: a }, linker: 'worker' });
      expect(r.linkedInWorker).toBeGreaterThan(0);
      await checkout(repo, b, join(dir, 'b'), { hardlink: true });
      const want = snapshot(join(dir, 'b'));
      expect(snapshot(join(dir, 'b-from-a'))).toEqual(want);
      expect(want.get('d05')?.mode).toBe(0o550);
      expect(want.get('d39')?.mode).toBe(0o755);
      expect(want.get('d05/f3')?.content).toBe('b: d5 f3\n');
    } finally {
      await repo.close();
    }
  });

  it('a walk that fails after the worker started (a copied file whose object is missing) stops the worker and leaves no destination', async () => {
    // The last file of the walk has an xattr (so it is copied, by the walk's own thread) and no object.
    const last = join(src, 'd39', 'zz-last');
    writeFileSync(last, 'the last file\n');
    setAttributeSync(last, 'user.label', Buffer.from('copied'));
    await troveOk(repoPath, 'commit', src, '-r', 'c');
    const id = hashBytes(Buffer.from('the last file\n'));
    rmSync(join(repoPath, 'objects', id.slice(0, 2), id.slice(2)));
    const out = join(dir, 'c');
    const r = await trove(['checkout', '--hardlink', 'c', out, '--repo', repoPath]);
    expect(r.stderr).toBe(`trove: object ${id} is missing from the store\n`);
    expect(r.code).toBe(5);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a hard-link checkout through the worker without root', () => {
  it.skipIf(!isRoot)('gives directories without the owner\'s write bit their modes after the links below them are made', () => {
    // As another user: root's permission checks pass whatever the order; a user's do not.
    const dir = tmpdir('trove-checkout-worker-user');
    chownSync(dir, 65534, 65534);
    const src = join(dir, 'src');
    for (let d = 0; d < 31; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `d${d} f${f}\n`);
    }
    chmodSync(join(src, 'd30'), 0o555);
    chmodSync(join(src, 'd29'), 0o500);
    spawnSync('chown', ['-R', '65534:65534', src]);
    const asNobody = (...args: string[]) =>
      spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, TROVE_BIN, '--repo', join(dir, 'repo'), ...args], { encoding: 'utf8' });
    for (const args of [['init'], ['commit', src, '-r', 'main']]) expect(asNobody(...args).status).toBe(0);
    const r = asNobody('checkout', '--hardlink', '-v', 'main', join(dir, 'out'));
    expect(r.stderr).toMatch(/checkout: \d+ of the links made by a second thread/);
    expect(r.status).toBe(0);
    expect(lstatSync(join(dir, 'out', 'd30')).mode & 0o7777).toBe(0o555);
    expect(lstatSync(join(dir, 'out', 'd29')).mode & 0o7777).toBe(0o500);
    expect(readdirSync(join(dir, 'out', 'd30')).length).toBe(40);
    expect(readdirSync(join(dir, 'out', 'd29')).length).toBe(40);
    expect(readFileSync(join(dir, 'out', 'd29', 'f7'), 'utf8')).toBe('d29 f7\n');
  });
});

const linkers: [string, (isRoot: boolean) => Linker][] = [
  ['the link worker', (root) => new LinkWorker(root)],
  [
    'the native link thread',
    (root) => {
      const l = startLinker(root, 'native');
      // Built by npm test; outside CI, without a C compiler, the native kind is the worker.
      if (process.env.CI) expect(l).toBeInstanceOf(NativeLinker);
      return l;
    },
  ],
];

describe.each(linkers)('%s', (name, makeLinker) => {
  const dir = tmpdir(`trove-link-${name.split(' ').pop()}`);
  /** `n` object files of mode 0644 in `dir/objs` (whatever the umask), and an empty `dir/<dest>`. */
  const objects = (n: number, dest: string) => {
    mkdirSync(join(dir, 'objs'), { recursive: true });
    mkdirSync(join(dir, dest));
    return Array.from({ length: n }, (_, i) => {
      const p = join(dir, 'objs', `o${i}`);
      if (!existsSync(p)) {
        writeFileSync(p, `object ${i}\n`);
        chmodSync(p, 0o644);
      }
      return p;
    });
  };
  const uid = process.getuid!();
  const gid = process.getgid!();
  const job = (object: string, dest: string, mode = 0o644, owner = uid) => ({ id: object.slice(-8), object, dest, mode, uid: owner, gid });

  it('links what fits, and gives back what does not fit, is missing, is a symlink or is not a regular file', async () => {
    const objs = objects(600, 'a');
    symlinkSync(objs[5]!, join(dir, 'objs', 'symlinked'));
    const w = makeLinker(isRoot);
    objs.forEach((object, i) => w.add(job(object, join(dir, 'a', `f${i}`), i === 7 ? 0o755 : 0o644)));
    const odd = [job(join(dir, 'objs', 'none'), join(dir, 'a', 'none')), job(join(dir, 'objs'), join(dir, 'a', 'dir')), job(join(dir, 'objs', 'symlinked'), join(dir, 'a', 'sym'))];
    // An owner from 2^31 up (uid and gid are uint32 in a tree) comes back as it went.
    if (isRoot) odd.push(job(objs[9]!, join(dir, 'a', 'owner'), 0o644, uid + 1), job(objs[10]!, join(dir, 'a', 'big-owner'), 0o644, 3_000_000_000));
    for (const j of odd) w.add(j);
    const r = await w.finish();
    expect(r.linked).toBe(599);
    expect(r.undone.map((j) => j.dest).sort()).toEqual([join(dir, 'a', 'f7'), ...odd.map((j) => j.dest)].sort());
    // An undone job comes back whole: the caller makes it from what it is given.
    expect(r.undone.find((j) => j.dest.endsWith('/f7'))).toEqual(job(objs[7]!, join(dir, 'a', 'f7'), 0o755));
    if (isRoot) expect(r.undone.find((j) => j.dest.endsWith('/big-owner'))?.uid).toBe(3_000_000_000);
    expect(readdirSync(join(dir, 'a')).length).toBe(599);
    expect(lstatSync(join(dir, 'a', 'f3')).ino).toBe(lstatSync(objs[3]!).ino);
  });

  it('fails with the link error (EEXIST), raises its flag at once, and links nothing after it', async () => {
    const objs = objects(600, 'b');
    writeFileSync(join(dir, 'b', 'f300'), 'in the way\n');
    const w = makeLinker(isRoot);
    // Only two batches of 256 at first: the failure is in the second.
    objs.slice(0, 512).forEach((object, i) => w.add(job(object, join(dir, 'b', `f${i}`))));
    const deadline = Date.now() + 10_000;
    let raised = false;
    while (!raised && Date.now() < deadline) {
      try {
        w.busy();
        await new Promise((r) => setTimeout(r, 5));
      } catch (err) {
        expect(err).toBeInstanceOf(LinkWorkerFailed);
        raised = true;
      }
    }
    expect(raised).toBe(true);
    const err = (await w.failed()) as NodeJS.ErrnoException;
    expect(err.code).toBe('EEXIST');
    expect(err.syscall).toBe('link');
    expect(err.path).toBe(objs[300]);
    expect(err.message).toContain(join(dir, 'b', 'f300'));
    // The batch holding the failure stops there.
    expect(readdirSync(join(dir, 'b')).length).toBe(301);
  });

  // Only native threads link symlinks. In CI the addon is built (makeLinker checks it); elsewhere, without it, there are none.
  if (name === 'the native link thread' && (process.env.CI || loadAddon('linker') !== null)) it(
    'links symlinks from their shared copies, makes a copy that is missing, and gives back one not a symlink or without its directory',
    async () => {
      const w = makeLinker(isRoot);
      expect(w.symlinks).toBe(true);
      objects(600, 's');
      mkdirSync(join(dir, 'shared', 'ab'), { recursive: true });
      symlinkSync('to/somewhere', join(dir, 'shared', 'ab', 'good'));
      writeFileSync(join(dir, 'shared', 'ab', 'plain'), 'not a symlink\n');
      const sym = (copy: string, dest: string, target: string, owner = uid): LinkJob => ({ id: '', target, object: join(dir, 'shared', copy), dest: join(dir, 's', dest), mode: SYMLINK_JOB, uid: owner, gid });
      const linked = [sym('ab/good', 'a', 'to/somewhere'), sym('ab/new', 'b', 'to/new')];
      const back = [sym('ab/plain', 'c', 'to/plain'), sym('cd/new', 'd', 'to/nowhere')];
      if (isRoot) back.push(sym('ab/good', 'e', 'to/somewhere', uid + 1));
      for (const j of [...linked, ...back]) w.add(j);
      const r = await w.finish();
      expect(r.linked).toBe(0); // files linked: symlinks are counted by the checkout
      expect(lstatSync(join(dir, 's', 'a')).ino).toBe(lstatSync(join(dir, 'shared', 'ab', 'good')).ino);
      expect(readlinkSync(join(dir, 's', 'a'))).toBe('to/somewhere');
      // The missing copy was made where its shard directory was, with the target, and linked.
      expect(readlinkSync(join(dir, 'shared', 'ab', 'new'))).toBe('to/new');
      expect(lstatSync(join(dir, 's', 'b')).ino).toBe(lstatSync(join(dir, 'shared', 'ab', 'new')).ino);
      // Given back whole, with the target to make the symlink from; nothing made for them.
      const byDest = (x: LinkJob, y: LinkJob) => x.dest.localeCompare(y.dest);
      expect(r.undone.sort(byDest)).toEqual(back.sort(byDest));
      expect(existsSync(join(dir, 'shared', 'cd'))).toBe(false);
      expect(readdirSync(join(dir, 's')).sort()).toEqual(['a', 'b']);
    },
  );

  if (name === 'the native link thread' && (process.env.CI || loadAddon('linker') !== null)) {
    it('stopped while it finishes, fails with ECANCELED: files neither linked nor given back are never a success', async () => {
      const objs = objects(600, 'x');
      const w = makeLinker(isRoot);
      // 40 batches: the thread is in its first when stop() drops the rest.
      for (let k = 0; k < 17; k++) {
        mkdirSync(join(dir, 'x', `d${k}`));
        objs.forEach((object, i) => w.add(job(object, join(dir, 'x', `d${k}`, `f${i}`))));
      }
      const finishing = w.finish().then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      await w.stop();
      const err = await finishing;
      expect(err?.code).toBe('ECANCELED');
      expect(() => w.busy()).toThrow(LinkWorkerFailed);
    });
  }

  if (name === 'the link worker') it('a worker that dies before it runs links nothing and gives every job back', async () => {
    const objs = objects(600, 'd');
    const w = new LinkWorker(isRoot, 'throw new Error("no thread for you")');
    objs.forEach((object, i) => w.add(job(object, join(dir, 'd', `f${i}`))));
    const r = await w.finish();
    expect(r.linked).toBe(0);
    expect(r.undone.map((j) => j.dest).sort()).toEqual(objs.map((_o, i) => join(dir, 'd', `f${i}`)).sort());
    expect(readdirSync(join(dir, 'd'))).toEqual([]);
  });

  it('fails finish() with the link error when it is not looked for before', async () => {
    const objs = objects(600, 'c');
    writeFileSync(join(dir, 'c', 'f450'), 'in the way\n');
    const w = makeLinker(isRoot);
    objs.forEach((object, i) => w.add(job(object, join(dir, 'c', `f${i}`))));
    const err = await w.finish().then(() => undefined, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).toBe('EEXIST');
    expect(readdirSync(join(dir, 'c')).length).toBe(451);
  });
});
