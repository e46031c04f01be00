import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip, parseRange, requestParts } from '../src/remote/serve.js';
import { trove, TROVE_BIN } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with the path sent verbatim (no client-side normalisation of `..`). */
function http(url: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('trove serve', () => {
  const base = tmpdir('trove-serve');
  const repo = join(base, 'repo');
  let proc: ChildProcess;
  let url: string;
  let blobPath: string;
  const content = Buffer.from('0123456789abcdefghij');
  const text = Buffer.from('compressible text\n'.repeat(1000));

  beforeAll(async () => {
    const src = join(base, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'file'), content);
    writeFileSync(join(src, 'text'), text);
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'commit', src, '-r', 'main'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'summary'])).code).toBe(0);
    const id = createHash('sha256').update(content).digest('hex');
    blobPath = `/objects/${id.slice(0, 2)}/${id.slice(2)}`;
    writeFileSync(join(base, 'secret'), 'outside\n');
    symlinkSync(join(base, 'secret'), join(repo, 'objects', 'zz'));
    symlinkSync('../../secret', join(repo, 'refs', 'heads', 'escape'));
    // A real process: `trove serve` serves until SIGINT or SIGTERM, handled by the process.
    proc = spawn(process.execPath, [TROVE_BIN, '--repo', repo, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
  });
  afterAll(() => {
    proc?.kill('SIGKILL');
  });

  it('serves objects, refs and the summary byte for byte', async () => {
    const r = await http(url, blobPath);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(content);
    expect(r.headers['content-length']).toBe(String(content.length));
    expect(r.headers['cache-control']).toMatch(/immutable/);
    const s = await http(url, '/summary');
    expect(s.body).toEqual(readFileSync(join(repo, 'summary')));
    expect(s.headers['cache-control']).toBe('no-cache');
    const ref = await http(url, '/refs/heads/main');
    expect(ref.body.toString()).toBe(readFileSync(join(repo, 'refs/heads/main'), 'utf8'));
  });

  it('answers HEAD with headers only', async () => {
    const r = await http(url, blobPath, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(content.length));
    expect(r.body.length).toBe(0);
  });

  it('serves byte ranges, and 416 past the end', async () => {
    const mid = await http(url, blobPath, { headers: { range: 'bytes=2-5' } });
    expect(mid.status).toBe(206);
    expect(mid.body.toString()).toBe('2345');
    expect(mid.headers['content-range']).toBe(`bytes 2-5/${content.length}`);
    const tail = await http(url, blobPath, { headers: { range: 'bytes=-3' } });
    expect(tail.body.toString()).toBe('hij');
    const open = await http(url, blobPath, { headers: { range: 'bytes=15-' } });
    expect(open.body.toString()).toBe('fghij');
    const past = await http(url, blobPath, { headers: { range: 'bytes=100-' } });
    expect(past.status).toBe(416);
  });

  it('never serves anything outside the public layout', async () => {
    for (const path of ['/../secret', '/objects/../config', '/%2e%2e/secret', '/objects/%2e%2e/config', '/config', '/lock', '/tmp/', '/objects/zz', '/refs/heads/escape', '/objects/..%2fconfig', '/objects%5c..%5cconfig', '/objects/%00']) {
      const r = await http(url, path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body.toString()).not.toMatch(/outside|trove-1/);
    }
    const dirListing = await http(url, '/objects/');
    expect(dirListing.status).toBe(404);
  });

  it('sends precompressed objects to clients that accept gzip, and only to them', async () => {
    expect((await trove(['--repo', repo, 'summary', '--gzip-objects'])).code).toBe(0);
    const id = createHash('sha256').update(text).digest('hex');
    const path = `/objects/${id.slice(0, 2)}/${id.slice(2)}`;
    const gz = await http(url, path, { headers: { 'accept-encoding': 'br, gzip;q=0.5' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.length).toBeLessThan(text.length / 10);
    expect(gunzipSync(gz.body)).toEqual(text);
    const plain = await http(url, path);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toEqual(text);
    const refused = await http(url, path, { headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(refused.body).toEqual(text);
    const ranged = await http(url, path, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body).toEqual(text.subarray(0, 10));
  });

  it('refuses to write', async () => {
    const r = await http(url, blobPath, { method: 'PUT' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it('is pulled from like any static server', async () => {
    const client = join(base, 'client');
    expect((await trove(['--repo', client, 'init'])).code).toBe(0);
    expect((await trove(['--repo', client, 'remote', 'add', 'o', url])).code).toBe(0);
    const r = await trove(['--repo', client, 'pull', 'o', 'main']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await trove(['--repo', client, 'fsck'])).code).toBe(0);
  });
});

describe('request path and range parsing', () => {
  it('accepts only clean paths under the served top-level names', () => {
    expect(requestParts('/objects/ab/cd?x=1')).toEqual(['objects', 'ab', 'cd']);
    expect(requestParts('/summary')).toEqual(['summary']);
    for (const bad of ['/', '/config', '/objects/../config', '/objects/%2E%2E/x', '/objects/./x', 'objects/x', '/objects/a%00b', '/objects/a\\b', '/%E0%A4%A']) {
      expect(requestParts(bad)).toBeUndefined();
    }
  });

  it('reads Accept-Encoding', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('br;q=1, GZIP;q=0.1')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  it('parses single ranges and ignores what it does not understand', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual([0, 0]);
    expect(parseRange('bytes=5-100', 10)).toEqual([5, 9]);
    expect(parseRange('bytes=-20', 10)).toEqual([0, 9]);
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
    expect(parseRange(undefined, 10)).toBeUndefined();
  });
});
