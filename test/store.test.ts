import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ObjectId } from '../src/util/hash.js';
import { Repo } from '../src/repo/repo.js';
import { DiskStore } from '../src/store/disk.js';
import { acquireLock } from '../src/store/lock.js';
import { MemoryStore } from '../src/store/memory.js';
import { Transaction } from '../src/store/txn.js';
import { ROOT, sh, tmpdir } from './helpers/tmp.js';
import { storeContract } from './store-contract.js';

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function newDisk(): Promise<DiskStore> {
  const dir = tmpdir('trove-store');
  const store = new DiskStore({ objectsDir: join(dir, 'objects'), tmpDir: join(dir, 'tmp') });
  await store.create();
  return store;
}

/** Every file below `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

async function listAll(store: { list(): AsyncIterable<ObjectId> }): Promise<ObjectId[]> {
  const out: ObjectId[] = [];
  for await (const id of store.list()) out.push(id);
  return out.sort();
}

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, tamper: async (id, bytes) => store.tamper(id, bytes) };
});

storeContract('DiskStore', async () => {
  const store = await newDisk();
  return { store, tamper: async (id, bytes) => writeFileSync(store.pathOf(id), bytes) };
});

storeContract('Transaction', async () => {
  const disk = await newDisk();
  const txn = new Transaction(disk);
  return {
    store: txn,
    // A staged object is a file named by its id in the transaction's own directory.
    tamper: async (id, bytes) => {
      const staged = filesUnder(disk.tmpDir).filter((p) => p.endsWith(`/${id}`));
      expect(staged).toHaveLength(1);
      writeFileSync(staged[0]!, bytes);
    },
  };
});

describe('DiskStore layout', () => {
  it('writes objects/ab/<62 hex>, 0644, whose sha256sum is their name, and leaves no temp files', async () => {
    const disk = await newDisk();
    const { id } = await disk.put(text('layout\n'));
    const path = join(disk.objectsDir, id.slice(0, 2), id.slice(2));
    expect(disk.pathOf(id)).toBe(path);
    expect(statSync(path).mode & 0o7777).toBe(0o644);
    expect(sh('sha256sum', [path]).split(' ')[0]).toBe(id);
    await disk.putStream((async function* () {
      yield text('streamed');
    })());
    expect(readdirSync(disk.tmpDir)).toEqual([]);
    expect(readdirSync(disk.objectsDir)).toHaveLength(256);
  });

  it('ignores stray files in the objects directory when listing', async () => {
    const disk = await newDisk();
    const { id } = await disk.put(text('real'));
    writeFileSync(join(disk.objectsDir, 'ab', 'not-an-id'), 'x');
    mkdirSync(join(disk.objectsDir, 'zz'));
    writeFileSync(join(disk.objectsDir, 'zz', 'a'.repeat(62)), 'x');
    expect(await listAll(disk)).toEqual([id]);
  });

  it('getSync with maxBytes: the object as without it, a larger one refused as bad before it is read, a missing one not found', async () => {
    const disk = await newDisk();
    const { id } = await disk.put(text('twelve bytes'));
    expect(Buffer.from(disk.getSync(id, 12)).toString()).toBe('twelve bytes');
    expect(() => disk.getSync(id, 11)).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT', message: expect.stringContaining('12 bytes, more than the 11') }));
    // Corrupt and small enough: read, then refused by its hash as without maxBytes.
    const other = (await disk.put(text('other bytes!'))).id;
    writeFileSync(disk.pathOf(other), 'changed byte');
    expect(() => disk.getSync(other, 100)).toThrow(/corrupt/);
    expect(() => disk.getSync('0'.repeat(64), 100)).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
  });

  it('refuses malformed ids as not found instead of touching other paths', async () => {
    const disk = await newDisk();
    await expect(disk.get('../../etc/passwd')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(disk.get('ABCD'.repeat(16))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

/** The disk store, recording the id of every object moved into place (install, installSync, ...). */
function recordingInstalls(disk: DiskStore, installed: ObjectId[]): DiskStore {
  return new Proxy(disk, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const fn = v as (...args: unknown[]) => unknown;
      if (typeof prop === 'string' && prop.startsWith('install')) {
        return (...args: unknown[]) => {
          installed.push(args[1] as ObjectId);
          return fn.apply(target, args);
        };
      }
      return fn.bind(target);
    },
  });
}

describe('Transaction', () => {
  it('stores every object whether its shard was found empty, found full, or taken to be full without a look', async () => {
    const disk = await newDisk();
    // Content objects (a hint makes them content) until 12 shards hold one and the rest are empty.
    const seeded = new Set<string>();
    for (let i = 0; seeded.size < 12; i++) {
      const bytes = text(`seed ${i}`);
      const shard = sha256(bytes).slice(0, 2);
      if (seeded.has(shard)) continue;
      seeded.add(shard);
      disk.putSync(bytes, { private: false });
    }
    const txn = new Transaction(disk);
    const ids: ObjectId[] = [];
    // A few hundred objects: some in seeded shards, most in empty ones (after 8 full ones, empty shards are not looked at).
    for (let i = 0; i < 300; i++) ids.push(txn.putSync(text(`new ${i}`), { private: false }).id);
    // Staged: some in shard directories of their own (shards seen empty), and once 8 seeded shards were met,
    // objects of shards that are empty in the store staged one by one, their shard taken to be full unlooked.
    const staged = filesUnder(disk.tmpDir);
    expect(staged.some((p) => p.includes('/shards/'))).toBe(true);
    const unlooked = staged.filter((p) => !p.includes('/shards/') && !seeded.has(p.split('/').pop()!.slice(0, 2)));
    expect(unlooked.length).toBeGreaterThan(0);
    await txn.commit();
    for (const [i, id] of ids.entries()) expect(Buffer.from(await disk.get(id)).toString()).toBe(`new ${i}`);
    expect((await listAll(disk)).length).toBe(312);
    expect(readdirSync(disk.tmpDir)).toEqual([]);
    expect(readdirSync(disk.objectsDir)).toHaveLength(256);
  });

  it('abort leaves the store exactly as it was', async () => {
    const disk = await newDisk();
    const kept = await disk.put(text('already there'));
    const before = await listAll(disk);
    const txn = new Transaction(disk);
    await txn.put(text('staged one'));
    await txn.putStream((async function* () {
      yield text('staged two');
    })());
    expect((await txn.put(text('already there'))).written).toBe(false);
    expect(await txn.has(sha256(text('staged one')))).toBe(true);
    expect(await disk.has(sha256(text('staged one')))).toBe(false);
    await txn.abort();
    expect(await listAll(disk)).toEqual(before);
    expect(before).toEqual([kept.id]);
    expect(readdirSync(disk.tmpDir)).toEqual([]);
    await expect(txn.put(text('late'))).rejects.toThrow(/finished/);
  });

  it('commit moves objects into the store in put order, children before parents', async () => {
    const disk = await newDisk();
    const installed: ObjectId[] = [];
    const txn = new Transaction(recordingInstalls(disk, installed));
    const ids: ObjectId[] = [];
    for (const s of ['leaf 1', 'leaf 2']) ids.push((await txn.put(text(s))).id);
    const streamed = await txn.putStream((async function* () {
      yield text('streamed leaf');
    })());
    ids.push(streamed.id);
    for (const s of ['subtree', 'tree', 'commit']) ids.push((await txn.put(text(s))).id);
    for (const id of ids) expect(await disk.has(id)).toBe(false);
    expect(txn.stats).toEqual({ objects: 6, bytes: ['leaf 1', 'leaf 2', 'streamed leaf', 'subtree', 'tree', 'commit'].join('').length });
    await txn.commit();
    expect(installed).toEqual(ids);
    expect(await listAll(disk)).toEqual([...ids].sort());
    for (const id of ids) expect(sha256(await disk.get(id))).toBe(id);
    expect(readdirSync(disk.tmpDir)).toEqual([]);
  });

  it('does not stage what the store already has', async () => {
    const disk = await newDisk();
    await disk.put(text('old'));
    const installed: ObjectId[] = [];
    const txn = new Transaction(recordingInstalls(disk, installed));
    expect((await txn.put(text('old'))).written).toBe(false);
    await txn.commit();
    expect(installed).toEqual([]);
    expect(txn.stats.objects).toBe(0);
  });
});

describe('Repo.open cleans stale temp directories', () => {
  it('removes staging dirs of dead processes and keeps those of live ones', async () => {
    const dir = join(tmpdir('trove-repo'), 'repo');
    await (await Repo.init(dir)).close();
    const tmp = join(dir, 'tmp');
    // pid_max is at most 2^22 on Linux, so this pid can never be alive.
    const dead = join(tmp, 'txn-99999999-0a0b0c0d0e0f');
    const live = join(tmp, `txn-1-0a0b0c0d0e0f`);
    const mine = join(tmp, `txn-${process.pid}-0a0b0c0d0e0f`);
    for (const d of [dead, live, mine]) {
      mkdirSync(d);
      writeFileSync(join(d, 'a'.repeat(64)), 'staged');
    }
    writeFileSync(join(tmp, 'tmp-99999999-abcdefabcdef'), 'dead temp file');
    const repo = await Repo.open(dir);
    await repo.close();
    expect(readdirSync(tmp).sort()).toEqual([`txn-${process.pid}-0a0b0c0d0e0f`, 'txn-1-0a0b0c0d0e0f'].sort());
    expect(readFileSync(join(live, 'a'.repeat(64)), 'utf8')).toBe('staged');
  });
});

describe('repository lock across processes', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  const LOCK_HOLDER = `
    import { acquireLock } from ${JSON.stringify(join(ROOT, 'dist', 'store', 'lock.js'))};
    try {
      const release = await acquireLock(process.env.LOCK_PATH, process.env.LOCK_MODE, { wait: process.env.LOCK_WAIT !== 'no' });
      process.stdout.write('locked\\n');
      process.stdin.on('end', async () => { await release(); process.stdout.write('released\\n'); process.exit(0); });
      process.stdin.resume();
    } catch (err) {
      process.stdout.write('error ' + err.code + '\\n');
      process.exit(3);
    }`;

  /** A child process holding the lock; resolves once it says "locked" (or failed). */
  function holder(path: string, mode: 'shared' | 'exclusive', wait = true): Promise<{ child: ChildProcess; said: string }> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOCK_HOLDER], {
      env: { ...process.env, LOCK_PATH: path, LOCK_MODE: mode, LOCK_WAIT: wait ? 'yes' : 'no' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve({ child, said: out.trim() });
      });
      child.on('exit', (code) => {
        if (!out.includes('\n')) reject(new Error(`lock holder exited (${code}) without a word`));
      });
    });
  }

  const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.on('exit', () => resolve())));
  const settledWithin = async (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

  it('shared locks coexist across processes; exclusive waits for every shared holder', async () => {
    const path = join(tmpdir('trove-lock'), 'lock');
    writeFileSync(path, '');
    const a = await holder(path, 'shared');
    const b = await holder(path, 'shared');
    expect([a.said, b.said]).toEqual(['locked', 'locked']);

    // A third shared holder (this process) gets in without waiting.
    const mine = await acquireLock(path, 'shared', { wait: false });
    await mine();

    await expect(acquireLock(path, 'exclusive', { wait: false })).rejects.toMatchObject({ code: 'E_LOCKED' });

    let waited = false;
    let acquired = false;
    const ex = acquireLock(path, 'exclusive', { onWait: () => (waited = true) }).then((release) => {
      acquired = true;
      return release;
    });
    expect(await settledWithin(ex, 400)).toBe(false);
    expect(waited).toBe(true);

    a.child.stdin!.end();
    await exited(a.child);
    expect(await settledWithin(ex, 300)).toBe(false);
    expect(acquired).toBe(false);

    b.child.stdin!.end();
    await exited(b.child);
    const release = await ex;
    expect(acquired).toBe(true);

    // While this process holds it exclusively, another process cannot share it.
    const c = await holder(path, 'shared', false);
    expect(c.said).toBe('error E_LOCKED');
    await release();
    const d = await holder(path, 'shared', false);
    expect(d.said).toBe('locked');
    d.child.stdin!.end();
    await exited(d.child);
  });

  it('the kernel drops the lock of a killed holder', async () => {
    const path = join(tmpdir('trove-lock'), 'lock');
    writeFileSync(path, '');
    const a = await holder(path, 'exclusive');
    expect(a.said).toBe('locked');
    await expect(acquireLock(path, 'shared', { wait: false })).rejects.toMatchObject({ code: 'E_LOCKED' });
    a.child.kill('SIGKILL');
    await exited(a.child);
    const release = await acquireLock(path, 'exclusive', { wait: false });
    await release();
  });
});

describe('Refs.write', () => {
  it('refuses a ref under the name of an existing ref, for every writer, with E_BAD_REF', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const id = 'ab'.repeat(32);
    await repo.refs.write('main', id);
    await expect(repo.refs.write('main/sub', id)).rejects.toMatchObject({ code: 'E_BAD_REF' });
    await repo.refs.write('pkg/a/amd64', id);
    await expect(repo.refs.write('pkg/a', id)).rejects.toMatchObject({ code: 'E_BAD_REF' });
    expect((await repo.refs.list()).map((r) => r.name).sort()).toEqual(['main', 'pkg/a/amd64']);
    await repo.close();
  });
});
