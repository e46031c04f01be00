import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trove as pb } from '../src/format/generated/trove.js';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import { hashBytes, idToBytes } from '../src/util/hash.js';
import { writeCommit, writeTree } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';

type Fault = 'wrong' | 'truncate' | '404' | '500' | 'stall' | 'reset';

/**
 * A static server for a repository directory that misbehaves on purpose:
 * `faults` maps a request path to a fault and how many times to commit it
 * (Infinity: always). Every request is counted.
 */
class BadServer {
  readonly faults = new Map<string, { fault: Fault; times: number }>();
  readonly hits = new Map<string, number>();
  /** When each request arrived (performance.now()), by path. */
  readonly times = new Map<string, number[]>();
  private server!: Server;
  url = '';

  constructor(private readonly root: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req.url ?? '/', res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(path: string, res: ServerResponse): void {
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    this.times.set(path, [...(this.times.get(path) ?? []), performance.now()]);
    let body: Buffer;
    try {
      body = readFileSync(join(this.root, ...path.split('/').filter((p) => p && p !== '..')));
    } catch {
      res.writeHead(404).end();
      return;
    }
    const f = this.faults.get(path);
    if (f && f.times > 0) {
      f.times--;
      switch (f.fault) {
        case '404':
          return void res.writeHead(404).end();
        case '500':
          return void res.writeHead(500).end('oops');
        case 'stall':
          res.writeHead(200, { 'content-length': body.length });
          return void res.write(body.subarray(0, 1)); // and then nothing, ever
        case 'truncate':
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, body.length >> 1));
          return void setTimeout(() => res.socket?.destroy(), 10);
        case 'reset':
          return void res.socket?.destroy();
        case 'wrong': {
          const evil = Buffer.from(body);
          evil[0]! ^= 1;
          return void res.writeHead(200, { 'content-length': evil.length }).end(evil);
        }
      }
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  }
}

/** Ids of every stored object, sorted. */
const objects = (repo: string): string[] => [...objectIds(repo)].sort();

const objPath = (id: string) => `/objects/${id.slice(0, 2)}/${id.slice(2)}`;
const fileEntry = (name: string, bytes: Buffer) => ({ name, kind: 'file' as const, id: hashBytes(bytes), mode: 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
const dirEntry = (name: string, id: string) => ({ name, kind: 'dir' as const, id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });

describe('pulling from a misbehaving server', () => {
  const base = tmpdir('trove-badserver');
  const serverPath = join(base, 'server');
  let server: BadServer;
  const blobs: Buffer[] = Array.from({ length: 8 }, (_, i) => Buffer.from(`blob number ${i}\n`.repeat(i + 1)));
  let subTree = '';
  let rootTree = '';

  beforeAll(async () => {
    const repo = await Repo.init(serverPath);
    for (const b of blobs) await repo.store.put(b);
    subTree = await writeTree(repo.store, { entries: blobs.slice(4).map((b, i) => fileEntry(`s${i}`, b)) });
    rootTree = await writeTree(repo.store, { entries: [...blobs.slice(0, 4).map((b, i) => fileEntry(`f${i}`, b)), dirEntry('sub', subTree)] });
    const commit = await writeCommit(repo.store, { tree: rootTree, root: DEFAULT_DIR_META, parents: [], subject: 'x', body: '', timestamp: 1, metadata: [] });
    await repo.refs.write('main', commit);
    await repo.close();
    // No trees pack: a first pull fetches the commit and trees one by one, where some of these faults are.
    expect((await trove(['--repo', serverPath, 'summary', '--no-trees-packs'])).code).toBe(0);
    server = new BadServer(serverPath);
    await server.start();
  });
  afterAll(async () => server?.stop());

  async function client(): Promise<string> {
    const dir = join(tmpdir('trove-badclient'), 'repo');
    expect((await trove(['--repo', dir, 'init'])).code).toBe(0);
    expect((await trove(['--repo', dir, 'remote', 'add', 'bad', server.url])).code).toBe(0);
    return dir;
  }

  function pull(repo: string, ...extra: string[]) {
    return trove(['--repo', repo, 'pull', 'bad', 'main', '--json', '--timeout', '400', ...extra]);
  }

  /** The store holds only sound objects, and nothing whose references are missing. */
  async function expectSound(repo: string): Promise<void> {
    const ids = objects(repo);
    for (const id of ids) expect(hashBytes(readFileSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))))).toBe(id);
    if (ids.includes(subTree)) for (const b of blobs.slice(4)) expect(ids).toContain(hashBytes(b));
    if (ids.includes(rootTree)) expect(ids).toContain(subTree);
    expect((await trove(['--repo', repo, 'fsck'])).code).toBe(0);
  }

  it('retries each kind of transient failure with backoff and completes', async () => {
    const kinds: Fault[] = ['wrong', 'truncate', '404', '500', 'stall', 'reset'];
    // A request past its deadline (a stall) is tried once more at most; the other faults twice here.
    const times = (fault: Fault): number => (fault === 'stall' ? 1 : 2);
    kinds.forEach((fault, i) => server.faults.set(objPath(hashBytes(blobs[i]!)), { fault, times: times(fault) }));
    server.faults.set(objPath(subTree), { fault: 'wrong', times: 1 });
    server.faults.set('/summary', { fault: '500', times: 1 });
    const repo = await client();
    const r = await pull(repo, '--retries', '3');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.transfer.retries).toBe(kinds.reduce((n, f) => n + times(f), 0) + 2);
    expect(out.fetched.objects).toBe(blobs.length + 3);
    for (const [i, f] of kinds.entries()) expect(server.hits.get(objPath(hashBytes(blobs[i]!)))).toBeGreaterThanOrEqual(times(f) + 1);
    await expectSound(repo);
  });

  // pull, upgrade and install declare their network options in one place (networkOptions): each
  // takes --timeout and --retries and gives the same error when the server stalls.
  it.each([
    ['pull', ['pull', 'bad']],
    ['upgrade', ['upgrade', '--remote', 'bad']],
    ['install', ['install', 'one', '--remote', 'bad']],
  ])('%s honours --timeout and --retries on a server that stalls', async (_cmd, args) => {
    server.faults.clear();
    server.faults.set('/summary', { fault: 'stall', times: Infinity });
    server.hits.clear();
    const repo = await client();
    const r = await trove(['--repo', repo, ...args, '--timeout', '300', '--retries', '1']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/no complete response within 3\d\d ms \(--timeout\) \(after 2 attempts\)/);
    expect(server.hits.get('/summary')).toBe(2);
    server.faults.clear();
  });

  // With --retries 2: three attempts, except past a deadline (a stall), which is tried once more only.
  const permanent: [Fault, number, RegExp, number][] = [
    ['500', 1, /HTTP 500 \(after 3 attempts\)/, 3],
    ['404', 3, /not found \(HTTP 404\) \(after 3 attempts\)/, 3],
    ['wrong', 5, /wrong bytes for object [0-9a-f]{64}.*\(after 3 attempts\)/, 3],
    ['truncate', 1, /after 3 attempts/, 3],
    ['stall', 1, /no complete response within 4\d\d ms \(--timeout\) \(after 2 attempts\)/, 2],
  ];
  for (const [fault, code, message, attempts] of permanent) {
    it(`gives up with a clear error after retries when a server keeps answering ${fault}`, async () => {
      server.faults.clear();
      const victim = objPath(hashBytes(blobs[5]!));
      server.faults.set(victim, { fault, times: Infinity });
      server.hits.clear();
      const repo = await client();
      const r = await pull(repo, '--retries', '2');
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(victim);
      expect(server.hits.get(victim)).toBe(attempts);
      expect(objects(repo)).not.toContain(hashBytes(blobs[5]!));
      expect(objects(repo)).not.toContain(subTree);
      expect(readdirSync(join(repo, 'refs'))).not.toContain('remotes');
      await expectSound(repo);
    });
  }
});

describe('backoff and unreachable servers', () => {
  const base = tmpdir('trove-backoff');
  const serverPath = join(base, 'server');
  let server: BadServer;

  beforeAll(async () => {
    const repo = await Repo.init(serverPath);
    const blob = Buffer.from('payload\n');
    await repo.store.put(blob);
    const tree = await writeTree(repo.store, { entries: [fileEntry('f', blob)] });
    await repo.refs.write('main', await writeCommit(repo.store, { tree, root: DEFAULT_DIR_META, parents: [], subject: 'x', body: '', timestamp: 1, metadata: [] }));
    await repo.close();
    expect((await trove(['--repo', serverPath, 'summary'])).code).toBe(0);
    server = new BadServer(serverPath);
    await server.start();
  });
  afterAll(async () => server?.stop());

  it('waits between retries: at least half of 200 ms doubling each time (the jitter floor)', async () => {
    server.faults.set('/summary', { fault: '500', times: Infinity });
    const dir = join(tmpdir('trove-backoff-client'), 'repo');
    expect((await trove(['--repo', dir, 'init'])).code).toBe(0);
    expect((await trove(['--repo', dir, 'remote', 'add', 'bad', server.url])).code).toBe(0);
    const r = await trove(['--repo', dir, 'pull', 'bad', '--retries', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/summary: HTTP 500 \(after 4 attempts\)/);
    const t = server.times.get('/summary')!;
    expect(t).toHaveLength(4);
    // Waits are 100-200, 200-400 and 400-800 ms; a millisecond of slack for timer rounding.
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    gaps.forEach((g, i) => expect(g, `wait before retry ${i + 1}`).toBeGreaterThanOrEqual(100 * 2 ** i - 1));
    expect(t[3]! - t[0]!).toBeGreaterThanOrEqual(700 - 3);
  });

  it('gives a clear error after retries when nothing listens at the address', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const dir = join(tmpdir('trove-refused'), 'repo');
    expect((await trove(['--repo', dir, 'init'])).code).toBe(0);
    expect((await trove(['--repo', dir, 'remote', 'add', 'gone', `http://127.0.0.1:${port}/`])).code).toBe(0);
    const r = await trove(['--repo', dir, 'pull', 'gone', '--retries', '2', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`http://127.0.0.1:${port}/summary`);
    expect(r.stderr).toMatch(/ECONNREFUSED.*\(after 3 attempts\)/);
    expect(objects(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'refs'))).not.toContain('remotes');
  });
});

describe('a server sending hostile trees', () => {
  for (const name of ['..', '.', 'a/b', 'nul\0byte', '']) {
    it(`refuses a tree with an entry named ${JSON.stringify(name)}: nothing stored, no ref`, async () => {
      const base = tmpdir('trove-hostile');
      const serverPath = join(base, 'server');
      const repo = await Repo.init(serverPath);
      const blob = Buffer.from('payload\n');
      await repo.store.put(blob);
      // Encoded by hand: the codec itself would never write such a tree.
      const tree = pb.v1.Tree.encode({ entries: [{ name, kind: pb.v1.EntryKind.ENTRY_KIND_FILE, id: idToBytes(hashBytes(blob)), mode: 0o644, size: blob.length }] }).finish();
      const treeId = (await repo.store.put(tree)).id;
      const commit = await writeCommit(repo.store, { tree: treeId, root: DEFAULT_DIR_META, parents: [], subject: 'evil', body: '', timestamp: 1, metadata: [] });
      await repo.refs.write('main', commit);
      await repo.close();
      expect((await trove(['--repo', serverPath, 'summary'])).code).toBe(0);
      const server = new BadServer(serverPath);
      await server.start();
      try {
        const clientPath = join(base, 'client');
        await trove(['--repo', clientPath, 'init']);
        await trove(['--repo', clientPath, 'remote', 'add', 'evil', server.url]);
        const r = await trove(['--repo', clientPath, 'pull', 'evil', 'main']);
        expect(r.code).toBe(5);
        expect(r.stderr).toMatch(/invalid entry name|not a valid protobuf|not canonically encoded/);
        expect(objects(clientPath)).toEqual([]);
        expect(readdirSync(join(clientPath, 'refs'))).not.toContain('remotes');
        // Refused at once: a decoding failure is not retried.
        expect(server.hits.get(objPath(treeId))).toBe(1);
        expect(server.hits.get(objPath(hashBytes(blob)))).toBeUndefined();
      } finally {
        await server.stop();
      }
    });
  }
});
