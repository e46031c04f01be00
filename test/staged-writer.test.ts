// A transaction's content written by a second thread (src/store/staged-writer.ts): the same staged
// files and store as one thread, reads and mode changes of staged objects wait for their writes,
// a failed write fails the commit with its own error, and a thread that cannot start loses nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Repo } from '../src/repo/repo.js';
import type { DiskStore } from '../src/store/disk.js';
import { StagedFileWriter } from '../src/store/staged-writer.js';
import type { Transaction } from '../src/store/txn.js';
import type { PutHint } from '../src/store/types.js';
import { hashBytes } from '../src/util/hash.js';
import { troveOk } from './helpers/cli.js';
import { xattrsWork } from './helpers/xattrs.js';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { tmpdir } from './helpers/tmp.js';

const contents = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`content ${i}\n`.repeat(1 + (i % 50))));

/**
 * Puts `cs` with putSync, giving the writer's thread time to start once the
 * transaction made it (past 512 files), so that the rest go through it.
 */
async function putAll(txn: Transaction, cs: Buffer[], hint: (i: number) => PutHint): Promise<void> {
  for (let i = 0; i < cs.length; i++) {
    txn.putSync(cs[i]!, hint(i));
    for (let wait = 0; i > 512 && i + 1 < cs.length && txn.writtenByThread === 0 && wait < 500; wait++) {
      await new Promise((r) => setTimeout(r, 10));
      txn.putSync(cs[++i]!, hint(i));
    }
  }
}

describe('a transaction of many files of content', () => {
  it('writes most of them in the second thread, and the store holds each with its bytes and mode', async () => {
    const path = tmpdir('trove-staged-writer');
    const repo = await Repo.init(path);
    const cs = contents(1500);
    const txn = repo.transaction();
    await putAll(txn, cs, (i) => ({ executable: i % 3 === 0, private: i % 5 === 0 }));
    expect(txn.writtenByThread).toBeGreaterThan(300);
    // A staged object read back, and one made public, before the commit: both wait for its write.
    const last = cs[cs.length - 1]!;
    expect(Buffer.from(await txn.get(hashBytes(last))).equals(last)).toBe(true);
    const priv = cs[1495]!;
    expect(txn.publishSync(hashBytes(priv))).toBe(true);
    await txn.commit();
    const store = repo.store as DiskStore;
    cs.forEach((c, i) => {
      const file = store.pathOf(hashBytes(c));
      expect(readFileSync(file).equals(c)).toBe(true);
      const exec = i % 3 === 0;
      const hidden = i % 5 === 0 && i !== 1495;
      expect(statSync(file).mode & 0o777, `content ${i}`).toBe((exec ? 0o755 : 0o644) & (hidden ? 0o700 : 0o777));
    });
    expect(readdirSync(join(path, 'tmp'))).toEqual([]);
    await repo.close();
  });

  it('commits a directory of 2,000 files whole (the CLI path), and fsck finds it intact', async () => {
    const dir = tmpdir('trove-staged-writer-cli');
    const src = join(dir, 'src');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `d${d} f${f}\n`.repeat(f + 1));
    }
    const repo = join(dir, 'repo');
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'main', '--no-xattrs');
    await troveOk(repo, 'fsck');
    const out = join(dir, 'out');
    await troveOk(repo, 'checkout', 'main', out);
    expect(readFileSync(join(out, 'd19', 'f99'), 'utf8')).toBe('d19 f99\n'.repeat(100));
  });

  it('commits 1,800 files read whole below their directories, some with xattrs, some the same bytes private and public', async () => {
    const dir = tmpdir('trove-staged-writer-whole');
    const src = join(dir, 'src');
    const withXattrs = xattrsWork(dir);
    for (let d = 0; d < 18; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) {
        const file = join(src, `d${d}`, `f${f}`);
        // Every 4th file has the bytes of the same file in the directory before: private there when f % 8 === 4.
        writeFileSync(file, f % 4 === 0 && d > 0 ? `shared ${f}\n` : `d${d} f${f}\n`.repeat(f + 1), { mode: f % 8 === 4 ? 0o600 : 0o644 });
        if (d === 0 && f % 4 === 0) writeFileSync(file, `shared ${f}\n`);
        if (withXattrs && f % 25 === 1) setAttributeSync(file, 'user.mark', Buffer.from(`${d}/${f}`));
      }
    }
    const repo = join(dir, 'repo');
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'main');
    await troveOk(repo, 'fsck');
    const out = join(dir, 'out');
    await troveOk(repo, 'checkout', 'main', out);
    for (let d = 0; d < 18; d++) {
      for (let f = 0; f < 100; f++) {
        const rel = join(`d${d}`, `f${f}`);
        expect(readFileSync(join(out, rel)).equals(readFileSync(join(src, rel))), rel).toBe(true);
        expect(statSync(join(out, rel)).mode & 0o777, rel).toBe(statSync(join(src, rel)).mode & 0o777);
        if (withXattrs && f % 25 === 1) expect(getAttributeSync(join(out, rel), 'user.mark').toString(), rel).toBe(`${d}/${f}`);
      }
    }
  });

  it('puts a large file through the thread once it runs, and the commit stores it whole', async () => {
    const path = tmpdir('trove-staged-writer-large');
    const repo = await Repo.init(path);
    const txn = repo.transaction();
    await putAll(txn, contents(800), () => ({ executable: false, private: false }));
    const before = txn.writtenByThread;
    expect(before).toBeGreaterThan(0);
    const big = Buffer.alloc((12 << 20) + 7, 'big ');
    writeFileSync(join(path, 'big'), big);
    const put = txn.putFileSync(join(path, 'big'), { executable: true, private: false });
    expect(put).toMatchObject({ id: hashBytes(big), size: big.length, written: true });
    expect(txn.writtenByThread).toBe(before + 1);
    // The same content again: staged already, its copy is removed by the thread.
    expect(txn.putFileSync(join(path, 'big'), { executable: true, private: false })).toMatchObject({ id: hashBytes(big), written: false });
    expect(Buffer.from(await txn.get(hashBytes(big))).equals(big)).toBe(true);
    const txnDirs = readdirSync(join(path, 'tmp'));
    expect(txnDirs).toHaveLength(1);
    expect(readdirSync(join(path, 'tmp', txnDirs[0]!)).filter((n) => n.startsWith('part'))).toEqual([]);
    await txn.commit();
    const file = (repo.store as DiskStore).pathOf(hashBytes(big));
    expect(readFileSync(file).equals(big)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o755);
    await repo.close();
  });

  it('publishes content staged private and put again public in the thread, without waiting for the writes in flight', async () => {
    const path = tmpdir('trove-staged-writer-publish');
    const repo = await Repo.init(path);
    const txn = repo.transaction();
    const cs = contents(1400);
    await putAll(txn, cs, (i) => ({ executable: i % 2 === 0, private: true }));
    expect(txn.writtenByThread).toBeGreaterThan(300);
    const flush = vi.spyOn(StagedFileWriter.prototype, 'flush');
    try {
      // Each of the thread's last files again, public now (a commit meets the same content many times).
      for (let i = 1000; i < 1400; i++) expect(txn.putSync(cs[i]!, { executable: i % 2 === 0, private: false }).written).toBe(false);
      expect(flush).not.toHaveBeenCalled();
    } finally {
      flush.mockRestore();
    }
    await txn.commit();
    const store = repo.store as DiskStore;
    cs.forEach((c, i) => {
      const mode = i % 2 === 0 ? 0o755 : 0o644;
      expect(statSync(store.pathOf(hashBytes(c))).mode & 0o777, `content ${i}`).toBe(i >= 1000 ? mode : mode & 0o700);
    });
    await repo.close();
  });

  it('aborted, stops the thread and leaves nothing staged', async () => {
    const path = tmpdir('trove-staged-writer-abort');
    const repo = await Repo.init(path);
    const txn = repo.transaction();
    await putAll(txn, contents(1200), () => ({ executable: false, private: false }));
    expect(txn.writtenByThread).toBeGreaterThan(100);
    await txn.abort();
    expect(readdirSync(join(path, 'tmp'))).toEqual([]);
    for (const c of contents(1200)) expect(repo.store.hasSync(hashBytes(c))).toBe(false);
    await repo.close();
  });
});

describe('a shard that was empty when the transaction first staged into it', () => {
  it('is not looked up again for each object; one another writer adds meanwhile is staged again and goes in whole', async () => {
    const path = tmpdir('trove-txn-empty-shard');
    const repo = await Repo.init(path);
    const a = Buffer.from('first content\n');
    const shard = hashBytes(a).slice(0, 2);
    // Another content of the same shard.
    let b = Buffer.alloc(0);
    for (let i = 0; hashBytes(b).slice(0, 2) !== shard || b.length === 0; i++) b = Buffer.from(`other content ${i}\n`);
    const txn = repo.transaction();
    expect(txn.putSync(a, { executable: false, private: false }).written).toBe(true);
    // Another writer stores b in that shard while the transaction is open.
    await repo.store.put(b);
    expect(repo.store.hasSync(hashBytes(b))).toBe(true);
    expect(txn.putSync(b, { executable: false, private: false }).written).toBe(true);
    await txn.commit();
    for (const c of [a, b]) expect(readFileSync((repo.store as DiskStore).pathOf(hashBytes(c))).equals(c)).toBe(true);
    expect(readdirSync(join(path, 'tmp'))).toEqual([]);
    await repo.close();
    await troveOk(path, 'fsck');
  });
});

describe('the staged-file writer', () => {
  /** Waits until the writer's thread runs (it takes files only then). */
  const running = async (w: StagedFileWriter, dir: string): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      w.write(join(dir, `probe-${i}`), Buffer.from('probe'), 0o644);
      if (w.counts.there > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the thread never ran');
  };

  it('writes files adding up to several times its ring, each with its own bytes', async () => {
    const dir = tmpdir('trove-staged-writer-ring');
    const w = new StagedFileWriter();
    await running(w, dir);
    // About 64 MiB in files of 1 byte to 3 MiB: batches wrap around the 16 MiB ring many times.
    const files = Array.from({ length: 400 }, (_, i) => Buffer.alloc(i % 40 === 0 ? (3 << 20) - i : 1 + ((i * 7919) % (200 << 10)), `file ${i} `));
    files.forEach((f, i) => w.write(join(dir, `f${i}`), f, 0o644));
    w.flush();
    files.forEach((f, i) => expect(readFileSync(join(dir, `f${i}`)).equals(f), `f${i}`).toBe(true));
    await w.close();
  });

  it('writes bytes read into the room it lent where they are, and takes back rooms no write used', async () => {
    const dir = tmpdir('trove-staged-writer-lend');
    const w = new StagedFileWriter();
    await running(w, dir);
    const set = vi.spyOn(Uint8Array.prototype, 'set');
    const want = new Map<string, Buffer>();
    let plainWrites = 0;
    try {
      // About 48 MiB through the 16 MiB ring: lent rooms used whole, in part (a file that shrank),
      // not at all (content stored already), and interleaved with plain writes, which copy.
      for (let i = 0; i < 600; i++) {
        const size = i % 50 === 0 ? (2 << 20) + i : 1 + ((i * 7919) % (160 << 10));
        const bytes = Buffer.alloc(size, `lent ${i} `);
        const room = w.lend(size)!;
        expect(room.length).toBe(size);
        room.set(bytes);
        if (i % 7 === 3) continue; // not taken: the next call gives it back
        const path = join(dir, `f${i}`);
        const used = i % 5 === 0 ? Math.floor(size / 2) : size;
        w.write(path, room.subarray(0, used), 0o644);
        want.set(path, bytes.subarray(0, used));
        if (i % 11 === 0) {
          const plain = Buffer.from(`plain ${i}\n`);
          w.write(join(dir, `p${i}`), plain, 0o600);
          want.set(join(dir, `p${i}`), plain);
          plainWrites++;
        }
      }
      // Only the test's own copies into the rooms, and the plain writes, copied bytes into the ring.
      expect(plainWrites).toBeGreaterThan(40);
      expect(set.mock.calls.length).toBe(600 + plainWrites);
    } finally {
      set.mockRestore();
    }
    w.flush();
    for (const [path, bytes] of want) expect(readFileSync(path).equals(bytes), path).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('f'))).toHaveLength(600 - 86);
    await w.close();
  });

  it('copies a large file chunk by chunk, hashing it here and writing it there', async () => {
    const dir = tmpdir('trove-staged-writer-copy');
    const w = new StagedFileWriter();
    await running(w, dir);
    const big = Buffer.alloc((20 << 20) + 123, 'large file ');
    writeFileSync(join(dir, 'src'), big);
    const before = w.counts.there;
    expect(w.copyHashed(join(dir, 'src'), join(dir, 'dest'), 0o700)).toEqual({ id: hashBytes(big), size: big.length });
    expect(w.counts.there).toBe(before + 1);
    // Renamed by the thread after its last chunk; whole once flushed.
    w.rename(join(dir, 'dest'), join(dir, 'renamed'));
    w.flush();
    expect(existsSync(join(dir, 'dest'))).toBe(false);
    w.rename(join(dir, 'renamed'), join(dir, 'dest'));
    w.flush();
    expect(readFileSync(join(dir, 'dest')).equals(big)).toBe(true);
    expect(statSync(join(dir, 'dest')).mode & 0o777).toBe(0o700);
    // An empty file too.
    writeFileSync(join(dir, 'empty'), '');
    expect(w.copyHashed(join(dir, 'empty'), join(dir, 'empty-dest'), 0o644).size).toBe(0);
    w.flush();
    expect(readFileSync(join(dir, 'empty-dest')).length).toBe(0);
    w.unlink(join(dir, 'empty-dest'));
    w.flush();
    expect(existsSync(join(dir, 'empty-dest'))).toBe(false);
    // A copy that cannot be written fails with that error at the next call, not with a wrong object.
    w.copyHashed(join(dir, 'src'), join(dir, 'missing', 'dest'), 0o644);
    expect(() => w.flush()).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }) as Error);
    await w.close();
  });

  it('raises a failed write with its own error at the next call, and writes nothing more', async () => {
    const dir = tmpdir('trove-staged-writer-fail');
    const w = new StagedFileWriter();
    await running(w, dir);
    w.write(join(dir, 'missing', 'file'), Buffer.from('x'), 0o644);
    expect(() => w.flush()).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: join(dir, 'missing', 'file') }) as Error);
    expect(() => w.write(join(dir, 'after'), Buffer.from('y'), 0o644)).toThrow(/ENOENT/);
    await w.close();
    expect(existsSync(join(dir, 'after'))).toBe(false);
  });

  it('whose thread cannot start writes every file in the caller, none lost', async () => {
    const dir = tmpdir('trove-staged-writer-dead');
    const w = new StagedFileWriter('throw new Error("no thread for you")');
    const cs = contents(300);
    cs.forEach((c, i) => w.write(join(dir, `f${i}`), c, 0o600));
    w.flush();
    await w.close();
    expect(w.counts).toEqual({ here: 300, there: 0 });
    cs.forEach((c, i) => {
      expect(readFileSync(join(dir, `f${i}`)).equals(c)).toBe(true);
      expect(statSync(join(dir, `f${i}`)).mode & 0o777).toBe(0o600);
    });
  });
});
