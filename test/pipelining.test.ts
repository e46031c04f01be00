// HTTP/1.1 pipelining of small objects (src/remote/transport.ts): sent ahead by default against nginx,
// not at all with --pipelining 1, turned off after a server answers pipelined requests wrongly (the pull
// still ends with every object verified), and large blobs kept to one per connection.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectFetcher } from '../src/remote/fetch-objects.js';
import { fetchJobs, openTransport } from '../src/remote/transport.js';
import { Repo } from '../src/repo/repo.js';
import { expectSameContent } from './helpers/fstree.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { objectIds } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

/** 300 small files of distinct content in 10 directories, and 5 blobs of 1.5 MiB. */
function makeTree(dir: string): void {
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) writeFileSync(join(dir, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(1 + f));
  }
  mkdirSync(join(dir, 'big'));
  for (let b = 0; b < 5; b++) writeFileSync(join(dir, 'big', `b${b}`), Buffer.alloc(3 << 19, b + 1));
}

/**
 * A server that mishandles pipelining, as some proxies do: it collects the
 * requests that arrive on a connection within 20 ms and answers every one of
 * them with the file the first of them named (the right length for the first
 * only). A request that is alone on its connection is served right.
 */
function brokenPipeliningServer(root: string): Promise<{ server: Server; url: string; ahead: () => number }> {
  let ahead = 0;
  const serve = (sock: Socket, paths: string[]) => {
    const file = join(root, normalize(decodeURIComponent(paths[0]!)).replace(/^(\.\.(\/|$))+/, ''));
    let body: Buffer | undefined;
    try {
      body = statSync(file).isFile() ? readFileSync(file) : undefined;
    } catch {
      body = undefined;
    }
    for (const _ of paths) {
      if (body) {
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
        sock.write(body);
      } else sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }
  };
  const server = createServer((sock) => {
    let buf = '';
    let pending: string[] = [];
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      const heads = buf.split('\r\n\r\n');
      buf = heads.pop()!;
      const paths = heads.map((h) => /^GET (\S+) HTTP\/1\.1/.exec(h)?.[1]).filter((p): p is string => p !== undefined);
      if (paths.length && pending.length === 0) {
        setTimeout(() => {
          const batch = pending;
          pending = [];
          ahead += batch.length - 1;
          if (!sock.destroyed) serve(sock, batch);
        }, 20);
      }
      pending.push(...paths);
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}/`, ahead: () => ahead });
    }),
  );
}

describe('HTTP/1.1 pipelining of small objects', () => {
  const base = tmpdir('trove-pipelining');
  const src = join(base, 'src');
  const server = join(base, 'server');
  let nginx: Nginx;

  beforeAll(async () => {
    makeTree(src);
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'os/main', '-m', 'one');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
  });
  afterAll(async () => nginx?.stop());

  /** A new client of `url`, pulled with `args`; its JSON result and stderr, after a checkout compared with the source. */
  async function pullInto(label: string, url: string, ...args: string[]) {
    const client = join(base, label);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', url);
    const r = await trove(['--repo', client, 'pull', 'origin', 'os/main', '--json', '--no-deltas', ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(objectIds(client)).toEqual(objectIds(server));
    await troveOk(client, 'fsck');
    await troveOk(client, 'checkout', 'origin/os/main', join(base, `${label}-co`));
    expectSameContent(src, join(base, `${label}-co`));
    return { json: JSON.parse(r.stdout), stderr: r.stderr };
  }

  it('sends small objects ahead by default, and none with --pipelining 1', async () => {
    nginx.clearLog();
    const on = await pullInto('on', nginx.url);
    const objects = nginx.accessLog().filter((l) => l.path.startsWith('/objects/'));
    expect(objects.length).toBeGreaterThan(300);
    expect(on.json.transfer.pipelined).toBeGreaterThanOrEqual(300);
    expect(on.json.transfer.pipeliningOff).toBe(false);
    // nginx marks a request it had already read behind the one before it.
    expect(objects.filter((l) => l.pipelined).length).toBeGreaterThan(0);
    // The large blobs were never sent ahead.
    const big = new Set(objects.filter((l) => l.bytes > 1 << 20).map((l) => l.path));
    expect(big.size).toBe(5);
    expect(objects.filter((l) => big.has(l.path) && l.pipelined)).toEqual([]);
    // Nor sent on a connection that carried requests sent ahead: those have connections of their own.
    const pipelining = new Set(objects.filter((l) => l.pipelined).map((l) => l.connection));
    expect(objects.filter((l) => big.has(l.path) && pipelining.has(l.connection))).toEqual([]);

    nginx.clearLog();
    const off = await pullInto('off', nginx.url, '--pipelining', '1');
    expect(off.json.transfer.pipelined).toBe(0);
    expect(nginx.accessLog().filter((l) => l.pipelined)).toEqual([]);
  });

  it('from a server that closes each connection after 3 answers: what was sent ahead is sent again, and no deadline is left behind', async () => {
    const closing = await startNginx(server, { keepaliveRequests: 3 });
    try {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const r = await pullInto('closing', closing.url);
      // Requests sent ahead past a connection's third answer went out again on another: nothing was mixed up.
      expect(r.json.transfer.pipelined).toBeGreaterThan(0);
      expect(r.json.transfer.pipeliningOff).toBe(false);
      expect(closing.accessLog().filter((l) => l.pipelined).length).toBeGreaterThan(0);
      // Every request's deadline was cleared with its answer, also for those sent twice.
      expect(timers()).toBeLessThanOrEqual(before);
    } finally {
      await closing.stop();
    }
  });

  it('refuses a --pipelining that is not a positive integer, before any request', async () => {
    const client = join(base, 'bad-flag');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    nginx.clearLog();
    for (const v of ['0', '-2', 'many']) {
      const r = await trove(['--repo', client, 'pull', 'origin', 'os/main', '--pipelining', v]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--pipelining must be an integer >= 1/);
    }
    expect(nginx.accessLog()).toEqual([]);
  });

  it('from a server that answers pipelined requests wrongly: pipelining is turned off and the pull ends verified', async () => {
    const broken = await brokenPipeliningServer(server);
    try {
      const r = await pullInto('broken', broken.url);
      // The server did get requests sent ahead, answered them with the wrong bytes, and the client stopped.
      expect(broken.ahead()).toBeGreaterThan(0);
      expect(r.json.transfer.pipeliningOff).toBe(true);
      // Once off, nothing more was sent ahead: at most what was in flight then (16 connections, 8 on each).
      expect(r.json.transfer.pipelined).toBeLessThanOrEqual(16 * 8);
      expect(r.json.transfer.retries).toBeLessThanOrEqual(r.json.transfer.pipelined);
      expect(r.json.transfer.retries).toBeGreaterThan(0);
    } finally {
      await new Promise((resolve) => broken.server.close(resolve));
    }
  });

  it('keeps large blobs to one request per connection, small ones going past those that wait', async () => {
    // Five large blobs at the root, 100 small ones below: the walk queues the large ones first.
    const tree = join(base, 'large-first');
    mkdirSync(join(tree, 'small'), { recursive: true });
    for (let b = 0; b < 5; b++) writeFileSync(join(tree, `big${b}`), Buffer.alloc(3 << 19, b + 11));
    for (let f = 0; f < 100; f++) writeFileSync(join(tree, 'small', `f${f}`), `small ${f}\n`);
    const origin = join(base, 'large-first-server');
    await troveOk(origin, 'init');
    await troveOk(origin, 'commit', tree, '-r', 'os/main', '-m', 'large first');
    const client = join(base, 'limits');
    await troveOk(client, 'init');
    const tip = readFileSync(join(origin, 'refs', 'heads', 'os', 'main'), 'utf8').trim();
    const repo = await Repo.open(client);
    const transport = openTransport(origin);
    let inFlight = 0;
    let most = 0;
    let largeStarted = 0;
    let smallBeforeLastLarge = 0;
    const getStream = transport.getStream.bind(transport);
    transport.getStream = async <T>(...args: Parameters<typeof transport.getStream<T>>) => {
      most = Math.max(most, ++inFlight);
      largeStarted++;
      await new Promise((r) => setTimeout(r, 30));
      try {
        return await getStream<T>(...args);
      } finally {
        inFlight--;
      }
    };
    const getBytes = transport.getBytes.bind(transport);
    transport.getBytes = async (...args: Parameters<typeof getBytes>) => {
      if (args[1]?.expectBytes !== undefined && largeStarted < 5) smallBeforeLastLarge++;
      return getBytes(...args);
    };
    try {
      const jobs = fetchJobs({ connections: 2, pipelining: 8 });
      expect(jobs).toEqual({ jobs: 16, largeJobs: 2 });
      await new ObjectFetcher({ store: repo.store, transport, ...jobs }).fetchCommits([tip]);
    } finally {
      await transport.close();
      await repo.close();
    }
    expect(most).toBe(2);
    expect(largeStarted).toBe(5);
    // Small blobs did not wait behind the large ones that waited for a slot.
    expect(smallBeforeLastLarge).toBeGreaterThan(0);
    expect(objectIds(client)).toEqual(objectIds(origin));
  });
});
