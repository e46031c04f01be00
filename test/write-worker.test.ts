// Pulled objects written by a second thread (src/store/write-worker.ts): a pull of many small blobs
// gives the same store as one written in a single thread, a failed write fails the pull with its own
// error, and a thread that dies leaves its writes to the caller's thread instead of losing them.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectFetcher } from '../src/remote/fetch-objects.js';
import { openTransport } from '../src/remote/transport.js';
import { Repo } from '../src/repo/repo.js';
import type { DiskStore } from '../src/store/disk.js';
import { ObjectWriteWorker, POOL_SLOTS, SLOT, type WritableObjects, WRITER_SCRIPT } from '../src/store/write-worker.js';
import { hashBytes } from '../src/util/hash.js';
import { troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

/** Every object file of a store: id to mode and bytes. */
function objectFiles(repo: string): Map<string, { mode: number; bytes: Buffer }> {
  const out = new Map<string, { mode: number; bytes: Buffer }>();
  const dir = join(repo, 'objects');
  for (const shard of readdirSync(dir)) {
    for (const rest of readdirSync(join(dir, shard))) {
      const path = join(dir, shard, rest);
      out.set(shard + rest, { mode: statSync(path).mode & 0o7777, bytes: readFileSync(path) });
    }
  }
  return out;
}

/** A server of one commit with 900 small files (plain, executable, readable by the owner only, some contents shared) and 6 of 1.5 MiB. */
async function server(): Promise<{ serverPath: string; commit: string; dir: string }> {
  const dir = tmpdir('trove-write-worker');
  const src = join(dir, 'src');
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) {
      const file = join(src, `d${d}`, `f${f}`);
      writeFileSync(file, f % 9 === 0 ? `shared ${f}\n` : `d${d} f${f}\n`.repeat(1 + f));
      if (f % 5 === 0) chmodSync(file, 0o755);
      else if (f % 7 === 0) chmodSync(file, 0o600);
    }
  }
  // Large blobs (streamed, not fetched whole) in the last directory, fetched after the thread started.
  for (let i = 0; i < 6; i++) writeFileSync(join(src, 'd29', `large${i}`), Buffer.alloc((3 << 19) + i, `large ${i} `));
  const serverPath = join(dir, 'server');
  await troveOk(serverPath, 'init');
  await troveOk(serverPath, 'commit', src, '-r', 'main', '--no-xattrs');
  const commit = readFileSync(join(serverPath, 'refs', 'heads', 'main'), 'utf8').trim();
  return { serverPath, commit, dir };
}

/** Fetches `commit` into a new repository at `path`; `oneThread`: a store that cannot give the writer paths. */
async function fetchInto(path: string, serverPath: string, commit: string, oneThread: boolean): Promise<number> {
  const repo = await Repo.init(path);
  const disk = repo.store as DiskStore;
  const store = oneThread ? { pathOf: (id: string) => disk.pathOf(id), hasSync: (id: string) => disk.hasSync(id), tempPath: (t?: string) => disk.tempPath(t), installSync: (t: string, id: string) => disk.installSync(t, id) } : disk;
  const transport = openTransport(serverPath);
  try {
    const fetcher = new ObjectFetcher({ store, transport });
    await fetcher.fetchCommits([commit]);
    return fetcher.writtenInWorker;
  } finally {
    await transport.close();
    await repo.close();
  }
}

describe('a pull of many small blobs', () => {
  it('writes most of them in the second thread, and the store is the same as one written in a single thread', async () => {
    const { serverPath, commit, dir } = await server();
    const two = join(dir, 'two-threads');
    const one = join(dir, 'one-thread');
    const inWorker = await fetchInto(two, serverPath, commit, false);
    expect(await fetchInto(one, serverPath, commit, true)).toBe(0);
    // 900 files, 30 contents shared: more than the 256 written before the thread starts.
    expect(inWorker).toBeGreaterThan(400);
    const a = objectFiles(two);
    const b = objectFiles(one);
    expect(a.size).toBe(b.size);
    for (const [id, o] of b) {
      expect(a.get(id)?.mode, id).toBe(o.mode);
      expect(hashBytes(a.get(id)!.bytes)).toBe(id);
    }
    // Private objects (0600 files) stay private, executables keep 0755.
    expect(new Set([...a.values()].map((o) => o.mode))).toEqual(new Set([...b.values()].map((o) => o.mode)));
    expect([...a.values()].some((o) => (o.mode & 0o004) === 0)).toBe(true);
    expect([...a.values()].some((o) => (o.mode & 0o111) !== 0)).toBe(true);
    for (let i = 0; i < 6; i++) expect(a.has(hashBytes(Buffer.alloc((3 << 19) + i, `large ${i} `)))).toBe(true);
    expect(readdirSync(join(two, 'tmp')).filter((n) => n.startsWith('pull'))).toEqual([]);
    await troveOk(two, 'fsck');
  });

  it('refuses a large blob whose bytes are wrong when the second thread streams it, and stores nothing of it', async () => {
    const { serverPath, commit, dir } = await server();
    const bad = Buffer.alloc((3 << 19) + 5, 'large 5 ');
    const id = hashBytes(bad);
    const path = join(serverPath, 'objects', id.slice(0, 2), id.slice(2));
    chmodSync(path, 0o644);
    writeFileSync(path, Buffer.alloc(bad.length, 'not that '));
    const client = join(dir, 'client');
    await expect(fetchInto(client, serverPath, commit, false)).rejects.toMatchObject({ code: 'E_CORRUPT', message: expect.stringContaining(`wrong bytes for object ${id}`) as unknown });
    expect(existsSync(join(client, 'objects', id.slice(0, 2), id.slice(2)))).toBe(false);
    expect(readdirSync(join(client, 'tmp')).filter((n) => n.startsWith('pull'))).toEqual([]);
  });
});

/** A store of `dir`, counting the objects noted as added. */
function plainStore(dir: string, tmp = join(dir, 'tmp')): WritableObjects & { noted: number } {
  mkdirSync(join(dir, 'objects'), { recursive: true });
  mkdirSync(tmp, { recursive: true });
  let n = 0;
  return {
    noted: 0,
    tempPath: (tag = 'tmp') => join(tmp, `${tag}-${n++}`),
    pathOf: (id) => join(dir, 'objects', id.slice(0, 2), id.slice(2)),
    noteAdded(k) {
      this.noted += k;
    },
    placeSync(tmpPath, id) {
      const dest = join(dir, 'objects', id.slice(0, 2), id.slice(2));
      mkdirSync(join(dir, 'objects', id.slice(0, 2)), { recursive: true });
      renameSync(tmpPath, dest);
    },
  };
}

/** The writer with its own script, held until `letGo` is called: what is sent meanwhile waits in memory. */
function heldWriter(dir: string, store: WritableObjects): { w: ObjectWriteWorker; letGo: () => void } {
  const go = join(dir, 'go');
  const hold = `const fs = require('node:fs'); while (!fs.existsSync(${JSON.stringify(go)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);`;
  return { w: new ObjectWriteWorker(store, `${hold} ${WRITER_SCRIPT}`), letGo: () => writeFileSync(go, '') };
}

const blobs = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`blob ${i}\n`.repeat(i + 1)));

describe('the object writer', () => {
  it('writes every object with its mode, and counts them as added', async () => {
    const dir = tmpdir('trove-writer');
    const store = plainStore(dir);
    const w = new ObjectWriteWorker(store);
    const bs = blobs(300);
    await Promise.all(bs.map((b, i) => w.write(hashBytes(b), b, i % 2 ? 0o600 : 0o755)));
    await w.close();
    bs.forEach((b, i) => {
      const path = store.pathOf(hashBytes(b));
      expect(readFileSync(path).equals(b)).toBe(true);
      expect(statSync(path).mode & 0o7777).toBe(i % 2 ? 0o600 : 0o755);
    });
    expect(store.noted).toBe(300);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('fails a write with its own error, and every write after it', async () => {
    const dir = tmpdir('trove-writer-fail');
    // Temp files in a directory that does not exist: the open fails.
    const store = plainStore(dir);
    const broken = { ...store, tempPath: () => join(dir, 'missing', 'tmp') };
    const w = new ObjectWriteWorker(broken);
    const [b1, b2] = blobs(2) as [Buffer, Buffer];
    await expect(w.write(hashBytes(b1), b1, 0o644)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(w.write(hashBytes(b2), b2, 0o644)).rejects.toMatchObject({ code: 'ENOENT' });
    await w.close();
    expect(existsSync(store.pathOf(hashBytes(b1)))).toBe(false);
  });

  it('streams a large object chunk by chunk, holding back its sender while too much waits to be written', async () => {
    const dir = tmpdir('trove-writer-stream');
    const store = plainStore(dir);
    // Held: what is sent meanwhile waits in memory.
    const { w, letGo } = heldWriter(dir, store);
    const chunks = Array.from({ length: POOL_SLOTS + 8 }, (_, i) => Buffer.alloc(SLOT, `chunk ${i} `));
    const whole = Buffer.concat(chunks);
    const s = w.stream(store.tempPath('pull'), 0o755)!;
    // Pushed without waiting: once every slot of the pool is sent and not written, a push asks its sender to wait.
    const waits = chunks.map((c) => s.push(c)).filter((p) => p !== undefined);
    expect(waits.length).toBe(8);
    letGo();
    await Promise.all(waits);
    await s.finish(hashBytes(whole));
    const path = store.pathOf(hashBytes(whole));
    expect(readFileSync(path).equals(whole)).toBe(true);
    expect(statSync(path).mode & 0o7777).toBe(0o755);
    expect(store.noted).toBe(1);
    // An aborted stream leaves nothing.
    const t = w.stream(store.tempPath('pull'), 0o644)!;
    t.push(Buffer.from('half an object'));
    await t.abort();
    await w.close();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(store.noted).toBe(1);
  });

  it('reuses its slots: three pools of objects of every size, whole and streamed, each stored with its own bytes', async () => {
    const dir = tmpdir('trove-writer-pool');
    const store = plainStore(dir);
    // Held at first, so that every slot is taken and writes wait for room; then let go.
    const { w, letGo } = heldWriter(dir, store);
    // Whole objects from 1 byte to 3 slots (those over a slot go as streams), and streams pushed in 64 KiB chunks.
    const whole = Array.from({ length: 240 }, (_, i) => randomBytes(i % 8 === 7 ? 3 * SLOT - i : 1 + ((i * 7919) % SLOT)));
    const streamed = Array.from({ length: 4 }, (_, i) => randomBytes(5 * SLOT + 1000 * i));
    expect(whole.reduce((n, b) => n + b.length, 0) + streamed.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(3 * POOL_SLOTS * SLOT);
    let released = false;
    const writes = whole.map((b, i) => w.write(hashBytes(b), b, i % 3 ? 0o644 : 0o755).then(() => expect(released).toBe(true)));
    const streams = streamed.map(async (b) => {
      const s = w.stream(store.tempPath('pull'), 0o644)!;
      for (let off = 0; off < b.length; off += 64 << 10) {
        const wait = s.push(b.subarray(off, off + (64 << 10)));
        if (wait) await wait;
      }
      await s.finish(hashBytes(b));
    });
    await new Promise((r) => setTimeout(r, 200));
    released = true;
    letGo();
    await Promise.all([...writes, ...streams]);
    await w.close();
    for (const [i, b] of whole.entries()) {
      const path = store.pathOf(hashBytes(b));
      expect(readFileSync(path).equals(b), `object ${i} of ${b.length} bytes`).toBe(true);
      expect(statSync(path).mode & 0o7777).toBe(i % 3 ? 0o644 : 0o755);
    }
    for (const b of streamed) expect(readFileSync(store.pathOf(hashBytes(b))).equals(b)).toBe(true);
    expect(store.noted).toBe(whole.length + streamed.length);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('gets a slot to a writer while every slot is held by streams waiting for more bytes', async () => {
    const dir = tmpdir('trove-writer-partial');
    const store = plainStore(dir);
    const w = new ObjectWriteWorker(store);
    // One stream per slot, each with a byte in it and none to come for now.
    const streams = Array.from({ length: POOL_SLOTS + 2 }, () => w.stream(store.tempPath('pull'), 0o644)!);
    const first = await Promise.race([Promise.all(streams.map((s) => s.push(Buffer.from('x')))).then(() => 'pushed'), new Promise((r) => setTimeout(() => r('stalled'), 5000))]);
    expect(first).toBe('pushed');
    const small = Buffer.from('a small object\n');
    const wrote = await Promise.race([w.write(hashBytes(small), small, 0o644).then(() => 'written'), new Promise((r) => setTimeout(() => r('stalled'), 5000))]);
    expect(wrote).toBe('written');
    for (const [i, s] of streams.entries()) {
      const b = Buffer.concat([Buffer.from('x'), Buffer.from(` stream ${i}`)]);
      await s.push(b.subarray(1));
      await s.finish(hashBytes(b));
      expect(readFileSync(store.pathOf(hashBytes(b))).equals(b)).toBe(true);
    }
    await w.close();
    expect(readFileSync(store.pathOf(hashBytes(small))).equals(small)).toBe(true);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('aborts a stream that waits for a slot at once, and writes made after close in the calling thread', async () => {
    const dir = tmpdir('trove-writer-abort');
    const store = plainStore(dir);
    const { w, letGo } = heldWriter(dir, store);
    const s = w.stream(store.tempPath('pull'), 0o644)!;
    let wait: Promise<void> | undefined;
    for (let i = 0; i <= POOL_SLOTS && !wait; i++) wait = s.push(Buffer.alloc(SLOT, i));
    expect(wait).toBeDefined();
    // The thread is still held: the abort does not wait for it to free a slot.
    const aborted = s.abort().then(() => 'aborted');
    expect(await Promise.race([wait!.then(() => 'released'), new Promise((r) => setTimeout(() => r('stalled'), 2000))])).toBe('released');
    letGo();
    expect(await aborted).toBe('aborted');
    const closed = w.close();
    const late = Buffer.from('written after close\n');
    await w.write(hashBytes(late), late, 0o644);
    expect(w.stream(store.tempPath('pull'), 0o644)).toBeUndefined();
    await closed;
    expect(readFileSync(store.pathOf(hashBytes(late))).equals(late)).toBe(true);
    expect(store.noted).toBe(1);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('fails every write after a failed one larger than a slot', async () => {
    const dir = tmpdir('trove-writer-fail-large');
    const store = plainStore(dir);
    let first = true;
    // The first temp file in a directory that does not exist.
    const w = new ObjectWriteWorker({ ...store, tempPath: (t?: string) => (first ? ((first = false), join(dir, 'missing', 'tmp')) : store.tempPath(t)) });
    const large = Buffer.alloc(2 * SLOT, 'large ');
    await expect(w.write(hashBytes(large), large, 0o644)).rejects.toMatchObject({ code: 'ENOENT' });
    const small = Buffer.from('small\n');
    await expect(w.write(hashBytes(small), small, 0o644)).rejects.toMatchObject({ code: 'ENOENT' });
    await w.close();
    expect(existsSync(store.pathOf(hashBytes(small)))).toBe(false);
  });

  it("fails a stream with its own error when its temp file cannot be made, and nothing is stored", async () => {
    const dir = tmpdir('trove-writer-stream-fail');
    const store = plainStore(dir);
    const w = new ObjectWriteWorker(store);
    const s = w.stream(join(dir, 'missing', 'tmp'), 0o644)!;
    s.push(Buffer.from('bytes'));
    await expect(s.finish(hashBytes(Buffer.from('bytes')))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await w.close();
    expect(existsSync(store.pathOf(hashBytes(Buffer.from('bytes'))))).toBe(false);
  });

  it('fails a stream open when its thread dies, leaves no temp file, and gives no stream after', async () => {
    const dir = tmpdir('trove-writer-stream-dead');
    const store = plainStore(dir);
    // The thread makes each stream's temp file, and dies when a stream is closed.
    const w = new ObjectWriteWorker(store, 'require("node:worker_threads").parentPort.on("message", (m) => { if (m && m.kind === "open") require("node:fs").writeFileSync(m.tmp, "part"); if (m && m.kind === "close") process.exit(3); })');
    const s = w.stream(store.tempPath('pull'), 0o644)!;
    s.push(Buffer.from('bytes'));
    await expect(s.finish(hashBytes(Buffer.from('bytes')))).rejects.toThrow(/object writer stopped/);
    expect(w.stream(store.tempPath('pull'), 0o644)).toBeUndefined();
    await w.close();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('removes the temp file of a stream ended after its thread died', async () => {
    const dir = tmpdir('trove-writer-stream-dead-open');
    const store = plainStore(dir);
    // The thread makes the stream's temp file, then dies.
    const w = new ObjectWriteWorker(store, 'require("node:worker_threads").parentPort.on("message", (m) => { if (m && m.kind === "open") { require("node:fs").writeFileSync(m.tmp, "part"); process.exit(3); } })');
    const s = w.stream(store.tempPath('pull'), 0o644)!;
    await w.close();
    expect(readdirSync(join(dir, 'tmp'))).toHaveLength(1);
    await expect(s.abort()).rejects.toThrow(/object writer stopped/);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  for (const [how, script] of [
    ['cannot run a line', 'throw new Error("no thread for you")'],
    ['dies at its first batch', 'require("node:worker_threads").parentPort.on("message", () => process.exit(3))'],
    // A batch names its temp files in `paths`, a stream's open in `tmp`.
    ['dies once it made its first temp file', 'require("node:worker_threads").parentPort.on("message", (m) => { const t = m && (m.paths ? m.paths[0] : m.tmp); if (t) { require("node:fs").writeFileSync(t, "part"); process.exit(3); } })'],
  ] as const) {
    it(`whose thread ${how} leaves every write to the caller's thread, none lost`, async () => {
      const dir = tmpdir('trove-writer-dead');
      const store = plainStore(dir);
      const w = new ObjectWriteWorker(store, script);
      // Small ones, and two larger than a slot (which go to the thread as streams).
      const bs = [...blobs(200), Buffer.alloc(SLOT + 5, 'over a slot '), Buffer.alloc(3 * SLOT, 'three slots ')];
      await Promise.all(bs.map((b) => w.write(hashBytes(b), b, 0o644)));
      // And after the thread is gone.
      const late = Buffer.from('late\n');
      await w.write(hashBytes(late), late, 0o644);
      await w.close();
      for (const b of [...bs, late]) expect(readFileSync(store.pathOf(hashBytes(b))).equals(b)).toBe(true);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      // Each counted as added once, wherever it was written.
      expect(store.noted).toBe(bs.length + 1);
    });
  }
});
