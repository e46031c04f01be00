import { open, realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { isErrno } from '../util/errors.js';
import { SERVED_TOP_LEVEL, SUMMARY_PATH, SUMMARY_SIG_PATH } from './layout.js';

/** Options of the built-in server; defaults as documented on each field. */
export interface ServeInit {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one (default 0). */
  port?: number;
  /**
   * Serve files other users may not read too: private objects, and delta
   * packs and precompressed copies of them (default false: 403, as a web
   * server running as an unprivileged user answers). For a mirror on a
   * trusted network only.
   */
  includePrivate?: boolean;
  /** Called once per request, after the response is sent. */
  onRequest?: (line: { method: string; path: string; status: number; bytes: number }) => void;
}

export interface Served {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * The path components of a request, or undefined when the request must be
 * refused: undecodable, NUL or backslash, `.`/`..` components, or a first
 * component outside the repository's public layout.
 */
export function requestParts(rawUrl: string): string[] | undefined {
  const q = rawUrl.search(/[?#]/);
  let path: string;
  try {
    path = decodeURIComponent(q >= 0 ? rawUrl.slice(0, q) : rawUrl);
  } catch {
    return undefined;
  }
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\\')) return undefined;
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return undefined;
  if (!SERVED_TOP_LEVEL.has(parts[0]!)) return undefined;
  return parts;
}

/** Parses a single `bytes=` range against `size`: [start, end] inclusive, 'unsatisfiable', or undefined for "send it all". */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // multiple or malformed ranges: ignored, as RFC 9110 allows
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return [start, end];
}

/**
 * Serves a repository directory read-only over HTTP/1.1 (GET and HEAD, single
 * byte ranges). Only the public layout is served; a path never resolves
 * outside the directory, symlinks included. A file other users may not read
 * (mode without o+r: a private object, a delta pack or `.gz` carrying one)
 * is refused with 403 unless `includePrivate`, whoever runs the server.
 */
export async function serveRepo(dir: string, init: ServeInit = {}): Promise<Served> {
  const root = await realpath(dir);
  const server = createServer((req, res) => {
    handle(root, req, res, init.includePrivate ?? false)
      .catch(() => {
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      })
      .finally(() => {
        init.onRequest?.({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, bytes: Number(res.getHeader('content-length') ?? 0) });
      });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** True when an Accept-Encoding header allows gzip (q=0 refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

/** Opens `path` if it exists and its real path is inside `root`. */
async function openInside(root: string, path: string) {
  try {
    const real = await realpath(path);
    if (!real.startsWith(root + sep)) return undefined;
    return await open(real, 'r');
  } catch {
    return undefined;
  }
}

/** Sets headers one by one (so the request log can read them back), then the status. */
function writeHead(res: ServerResponse, status: number, headers: Record<string, string>): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.writeHead(status);
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  writeHead(res, status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Whether a file with mode `mode` is served: readable by others, or private ones asked for. */
const servable = (mode: number, includePrivate: boolean) => includePrivate || (mode & 0o004) !== 0;

async function handle(root: string, req: IncomingMessage, res: ServerResponse, includePrivate: boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  const parts = requestParts(req.url ?? '');
  if (!parts) return send(res, 404, 'not found\n');
  let real: string;
  try {
    real = await realpath(join(root, ...parts));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP') || isErrno(err, 'ENAMETOOLONG')) return send(res, 404, 'not found\n');
    throw err;
  }
  if (!real.startsWith(root + sep)) return send(res, 404, 'not found\n');
  // The file itself decides, also when its `.gz` is sent: a `.gz` written before private objects existed is 0644.
  const own = await open(real, 'r').catch(() => undefined);
  if (!own) return send(res, 404, 'not found\n');
  const ownSt = await own.stat().catch(async (err: unknown) => {
    await own.close();
    throw err;
  });
  if (ownSt.isFile() && !servable(ownSt.mode, includePrivate)) {
    await own.close();
    return send(res, 403, 'forbidden: a private file (see trove serve --include-private)\n');
  }
  // Objects precompressed by `trove summary --gzip-objects`, for clients that take gzip.
  let gz = parts[0] === 'objects' && !req.headers.range && acceptsGzip(req.headers['accept-encoding']) ? await openInside(root, `${real}.gz`) : undefined;
  let gzSt = gz ? await gz.stat() : undefined;
  if (gz && (!gzSt!.isFile() || !servable(gzSt!.mode, includePrivate))) {
    // Made while the object was private (published since): the object itself, uncompressed.
    await gz.close();
    gz = undefined;
    gzSt = undefined;
  }
  if (gz) await own.close();
  const fh = gz ?? own;
  let handedOff = false;
  try {
    const st = gzSt ?? ownSt;
    if (!st.isFile()) return send(res, 404, 'not found\n');
    const top = parts[0]!;
    const mutable = top === SUMMARY_PATH || top === SUMMARY_SIG_PATH || top === 'refs';
    const headers: Record<string, string> = {
      'content-type': top === SUMMARY_PATH ? 'application/json' : 'application/octet-stream',
      'accept-ranges': 'bytes',
      'last-modified': st.mtime.toUTCString(),
      'cache-control': mutable ? 'no-cache' : 'public, max-age=31536000, immutable',
    };
    if (parts[0] === 'objects') headers.vary = 'accept-encoding';
    if (gz) headers['content-encoding'] = 'gzip';
    const range = parseRange(req.headers.range, st.size);
    if (range === 'unsatisfiable') return send(res, 416, 'range not satisfiable\n', { 'content-range': `bytes */${st.size}` });
    const [start, end] = range ?? [0, st.size - 1];
    const length = st.size === 0 ? 0 : end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    headers['content-length'] = String(length);
    writeHead(res, range ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) return void res.end();
    const stream = fh.createReadStream({ start, end, autoClose: true });
    handedOff = true;
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  } finally {
    if (!handedOff) await fh.close();
  }
}
