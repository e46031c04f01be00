import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { createGunzip, gunzip, gunzipSync, type InputType, type ZlibOptions } from 'node:zlib';
import type { Dispatcher, Pool as PoolType } from 'undici';
import request from 'undici/lib/api/api-request.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import { isErrno } from '../util/errors.js';
import { deferredCa } from '../util/extra-ca.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryableStatus, TransferError, withRetries } from './retry.js';

/** Options of a transport; defaults as documented on each field. */
export interface TransportInit {
  /** Keep-alive connections to an HTTP remote (default DEFAULT_CONNECTIONS). */
  connections?: number;
  /**
   * Requests sent ahead on one connection (HTTP/1.1 pipelining; default
   * DEFAULT_PIPELINING; 1 turns it off). Only requests marked `small` are
   * sent ahead, and only on their first attempt: see `HttpTransport`.
   */
  pipelining?: number;
  /** Attempts after the first one for a failed request (default 5). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry, with jitter (default 200). */
  retryDelayMs?: number;
  /** Longest backoff delay in ms (default 5000). */
  maxRetryDelayMs?: number;
  /**
   * Deadline of one request, headers and whole body, in ms (default 30000);
   * a body of known size gets `size / MIN_RATE` more (see deadlineMs). No
   * headers or no body bytes for this long also fails the request.
   */
  timeoutMs?: number;
}

/**
 * Small objects requested ahead on one connection by default. Over a link of
 * 50 ms round trip a full install of 70 packages (4,746 requests) took 16.6 s
 * with 1, 5.5 s with 4, 3.9 s with 8 and 3.2 s with 16 on the same 16
 * connections; on loopback all the same (docs/benchmarks.md, "HTTP/1.1
 * pipelining"). apt sends up to 10 ahead.
 */
export const DEFAULT_PIPELINING = 8;

/** Keep-alive connections to an HTTP remote by default (`-j`). */
export const DEFAULT_CONNECTIONS = 16;

/** How many requests an object fetch keeps in flight (ObjectFetcherInit's `jobs` and `largeJobs`). */
export interface FetchJobs {
  /** Requests in flight: `pipelining` on each connection. */
  jobs: number;
  /** Of which with a large body (never sent ahead): one per connection, so none waits for a connection past its deadline. */
  largeJobs: number;
}

/** The requests in flight of an object fetch over a transport made with `init`. */
export function fetchJobs(init: Pick<TransportInit, 'connections' | 'pipelining'>): FetchJobs {
  const connections = init.connections ?? DEFAULT_CONNECTIONS;
  return { jobs: connections * (init.pipelining ?? DEFAULT_PIPELINING), largeJobs: connections };
}

/** Default deadline of a request, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Slowest average rate, in bytes per second, a download of known size is given time for on top of the timeout. */
export const MIN_RATE = 64 << 10;
/** Largest body `getBytes` reads when the caller gives no limit: the summary, commits, trees. */
export const MAX_BODY = 64 << 20;

/**
 * Most wire bytes a body of at most `max` decoded bytes may take: gzip of
 * incompressible bytes grows them by about 5 bytes per 16-64 KiB block plus
 * its header, far less than this. A stream of empty gzip blocks that never
 * yields a byte is cut off here.
 */
export function wireCap(max: number): number {
  return max + Math.floor(max / 128) + 1024;
}

/** A body longer than the referring object (or limit) allows: never retried, since the same URL will send the same. */
export function tooLong(where: string, max: number): TransferError {
  return new TransferError('E_CORRUPT', `${where}: more than the ${max} bytes expected; download stopped`, false);
}

const gunzipAsync = promisify(gunzip) as (buf: InputType, opts: ZlibOptions) => Promise<Buffer>;

/** A whole response body as it came off the wire. */
export interface Whole {
  wire: Buffer;
  encoding?: 'gzip';
}

/** Counters of what went over the wire. */
export interface TransferStats {
  /** Requests sent, retries included. */
  requests: number;
  /** Body bytes received as sent (compressed when the server compressed them). */
  bytes: number;
  retries: number;
  /** Requests sent on the pipelining connections, each without waiting for the answer before it (HTTP/1.1 pipelining). */
  pipelined: number;
  /**
   * Set once a request sent ahead came back mixed up (see mixedUp): from then
   * on this transport sends one request at a time on each connection (a
   * server or proxy that mishandles pipelining costs a retry of what was in
   * flight).
   */
  pipeliningOff: boolean;
}

/** A failure that answers mixed up by pipelining would give: wrong or too many bytes, or no HTTP at all. */
function mixedUp(err: unknown): boolean {
  if (err instanceof TransferError) return err.code === 'E_CORRUPT';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
}

/** One opened response body: bytes as they arrive on the wire. */
export interface Opened {
  /** An undici body (which can also be read whole) or a file stream. */
  body: Readable & { arrayBuffer?: () => Promise<ArrayBuffer> };
  /** `gzip` when the server compressed the body. */
  encoding?: 'gzip';
  /** Length announced by the server (wire bytes), if any. */
  length?: number;
}

/**
 * Reads files of a remote repository's static layout, over HTTP(S) with an
 * undici Pool of keep-alive connections, or from a local directory. Every
 * method retries transient failures with exponential backoff.
 */
export abstract class Transport {
  readonly stats: TransferStats = { requests: 0, bytes: 0, retries: 0, pipelined: 0, pipeliningOff: false };
  private readonly retryPolicy: RetryPolicy;
  private readonly timeoutMs: number;
  /** Attempts under way. */
  private inFlight = 0;

  constructor(
    readonly url: string,
    init: TransportInit,
  ) {
    this.retryPolicy = {
      retries: init.retries ?? DEFAULT_RETRY_POLICY.retries,
      delayMs: init.retryDelayMs ?? DEFAULT_RETRY_POLICY.delayMs,
      maxDelayMs: init.maxRetryDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    };
    this.timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The deadline of one attempt: the timeout, plus time for `expectBytes` at MIN_RATE when the size is known. */
  deadlineMs(expectBytes?: number): number {
    return this.timeoutMs + Math.ceil(((expectBytes ?? 0) * 1000) / MIN_RATE);
  }

  /** Whether small objects may be sent ahead (HTTP/1.1 pipelining) now. */
  protected pipelines(): boolean {
    return false;
  }

  /** From now on, one request at a time on each connection. */
  protected stopPipelining(): void {}

  /** Opens `path`; resolves undefined on 404. Errors are TransferErrors. */
  protected abstract open(path: string, signal?: AbortSignal): Promise<Opened | undefined>;

  abstract close(): Promise<void>;

  /**
   * A whole response body, for transports that can collect one more cheaply
   * than through a stream: undefined on 404; more than `maxWire` bytes is an
   * error. Optional.
   */
  protected whole?(path: string, maxWire: number, max: number, att: Attempt): Promise<Whole | undefined>;

  /**
   * Runs `attempt` (undefined: 404) under the retry policy (see retry.ts),
   * each attempt with its deadline (deadlineMs): past it, the attempt's
   * signal aborts the request and body, and the attempt fails with a
   * deadline error (retried once at most). Resolves undefined on 404 when
   * `optional`; otherwise a 404 is retried, since a mirror may be catching up.
   */
  private retrying<T>(
    path: string,
    attempt: (att: Attempt) => Promise<T | undefined>,
    opts: RequestOptions,
  ): Promise<T | undefined> {
    const where = this.describe(path);
    const ms = this.deadlineMs(opts.expectBytes);
    let first = true;
    return withRetries(
      async () => {
        // A small object's first attempt, beside others, goes ahead; alone (nothing else in flight) it would
        // gain nothing, and its failure is then its own.
        const att = new Attempt(ms, opts.signal, first && opts.small === true && this.pipelines() && this.inFlight > 0);
        first = false;
        if (att.ahead) this.stats.pipelined++;
        let r: T | undefined;
        this.inFlight++;
        try {
          r = await attempt(att);
        } catch (err) {
          // Bytes that are not the object's, or a response that does not parse, for a request sent ahead: a
          // server or proxy may have mixed up the answers. The request is retried (even past a limit that is
          // final for a request alone), and it and every request after it go one at a time on each connection.
          if (att.ahead && !opts.signal?.aborted && mixedUp(err)) {
            if (this.pipelines()) {
              this.stats.pipeliningOff = true;
              this.stopPipelining();
            }
            if (err instanceof TransferError && !err.retryable) throw new TransferError(err.code, err.message, true, { cause: err, data: err.data });
          }
          // undici's own stall timers (no headers, no body bytes for the timeout) count as the deadline too.
          const code = (err as { code?: unknown } | null)?.code;
          if ((att.late && !opts.signal?.aborted) || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
            throw new TransferError('E_IO', `${where}: no complete response within ${ms} ms (--timeout)`, true, { cause: err, deadline: true });
          }
          throw err;
        } finally {
          this.inFlight--;
          att.dispose();
        }
        if (r !== undefined || opts.optional) return r;
        throw new TransferError('E_NOT_FOUND', `${where}: not found (HTTP 404)`, true);
      },
      {
        policy: this.retryPolicy,
        retries: opts.retries,
        signal: opts.signal,
        where,
        onAttempt: () => void this.stats.requests++,
        onRetry: () => void this.stats.retries++,
      },
    );
  }

  /** Runs `consume` over the opened body of `path`, with retries. */
  private async get<T>(path: string, consume: (opened: Opened) => Promise<T>, opts: RequestOptions = {}): Promise<T | undefined> {
    const boxed = await this.retrying(
      path,
      async (att) => {
        const opened = await this.open(path, att.signal());
        // Boxed: `consume` may itself resolve undefined, which must not read as a 404.
        return opened && { value: await consume(opened) };
      },
      opts,
    );
    return boxed?.value;
  }

  /**
   * Runs `consume` over the decoded bytes of `path` as they arrive, with
   * retries as in `getBytes`. With `maxBytes`, the download stops at once
   * (a final E_CORRUPT) when more than that many decoded bytes, or more than
   * wireCap(maxBytes) wire bytes, arrive.
   */
  async getStream<T>(path: string, consume: (body: AsyncIterable<Buffer>) => Promise<T>, opts: RequestOptions & { maxBytes?: number } = {}): Promise<T | undefined> {
    const max = opts.maxBytes;
    const where = this.describe(path);
    return this.get(
      path,
      (o) => {
        if (max !== undefined && o.length !== undefined && o.length > wireCap(max)) {
          o.body.destroy();
          throw tooLong(where, max);
        }
        return consume(max === undefined ? this.decoded(o) : capped(this.decoded(o, wireCap(max), where, max), max, where));
      },
      opts,
    );
  }

  /**
   * The whole body of `path`, at most `maxBytes` (else a retryable
   * E_CORRUPT), passed through `check` (which throws to retry). Transient
   * failures are retried with exponential backoff; 404 resolves undefined
   * when `optional`.
   */
  async getBytes(path: string, opts: RequestOptions & { maxBytes?: number; check?: (bytes: Buffer) => void } = {}): Promise<Buffer | undefined> {
    const max = opts.maxBytes ?? MAX_BODY;
    const where = this.describe(path);
    const tooLongErr = () => tooLong(where, max);
    const inflate = async (wire: Buffer): Promise<Buffer> => {
      try {
        if (wire.length <= 16 << 10) return gunzipSync(wire, { maxOutputLength: max + 1 });
        return await gunzipAsync(wire, { maxOutputLength: max + 1 }); // on the thread pool
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLongErr();
        throw err;
      }
    };
    const finish = (bytes: Buffer): Buffer => {
      if (bytes.length > max) throw tooLongErr();
      opts.check?.(bytes);
      return bytes;
    };
    if (this.whole) {
      const whole = this.whole.bind(this);
      return this.retrying(
        path,
        async (att) => {
          const w = await whole(path, wireCap(max), max, att);
          if (!w) return undefined;
          this.stats.bytes += w.wire.length;
          return finish(w.encoding ? await inflate(w.wire) : w.wire);
        },
        opts,
      );
    }
    return this.get(
      path,
      async (o) => {
        if (o.length !== undefined && o.length > wireCap(max)) {
          o.body.destroy();
          throw tooLongErr();
        }
        const chunks: Buffer[] = [];
        let n = 0;
        for await (const c of this.decoded(o, wireCap(max), where, max)) {
          n += c.length;
          if (n > max) throw tooLongErr();
          chunks.push(c);
        }
        return finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
      },
      opts,
    );
  }

  /**
   * Body bytes, counted as they come off the wire (at most `maxWire`, else
   * tooLong(where, max)), then gunzipped if the server compressed them.
   */
  private decoded(o: Opened, maxWire = Infinity, where = '', max = 0): AsyncIterable<Buffer> {
    const body = this.counted(o.body, maxWire, where, max);
    return o.encoding === 'gzip' ? (pipeline(body, createGunzip(), () => {}) as Readable) : body;
  }

  describe(path: string): string {
    return `${this.url}${this.url.endsWith('/') ? '' : '/'}${path}`;
  }

  private async *counted(body: AsyncIterable<Buffer>, maxWire: number, where: string, max: number): AsyncIterable<Buffer> {
    let n = 0;
    for await (const c of body) {
      this.stats.bytes += c.length;
      n += c.length;
      if (n > maxWire) throw tooLong(where, max);
      yield c;
    }
  }
}

/**
 * One attempt of a request: its deadline in ms and the caller's signal.
 * `signal()` makes (on first use) a signal that aborts at the deadline or
 * with the caller's; whatever enforces the deadline sets `late`.
 */
export class Attempt {
  late = false;
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;
  private onAbort?: () => void;

  constructor(
    readonly ms: number,
    readonly outer?: AbortSignal,
    /** Sent ahead on a connection still answering others (HTTP/1.1 pipelining). */
    readonly ahead = false,
  ) {}

  signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const c = (this.controller = new AbortController());
    this.timer = setTimeout(() => {
      this.late = true;
      c.abort(new Error(`deadline of ${this.ms} ms`));
    }, this.ms);
    const outer = this.outer;
    if (outer?.aborted) c.abort(outer.reason);
    else if (outer) {
      this.onAbort = () => c.abort(outer.reason);
      outer.addEventListener('abort', this.onAbort, { once: true });
    }
    return c.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    if (this.onAbort) this.outer?.removeEventListener('abort', this.onAbort);
  }
}

/** Options of one request. */
export interface RequestOptions {
  /** A 404 resolves undefined instead of failing. */
  optional?: boolean;
  signal?: AbortSignal;
  /** Retries for this request, at most the transport's. */
  retries?: number;
  /** The body's size when it is known (a blob, a pack): its deadline grows by size / MIN_RATE. */
  expectBytes?: number;
  /**
   * The body is small (a commit, a tree, a small blob): its first attempt may
   * be sent ahead on a connection still answering others (pipelining), where a
   * large body would hold back the requests behind it.
   */
  small?: boolean;
}

/** `body` until more than `max` bytes have come: then tooLong, and the body is abandoned. */
async function* capped(body: AsyncIterable<Buffer>, max: number, where: string): AsyncIterable<Buffer> {
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw tooLong(where, max);
    yield c;
  }
}

/**
 * What an HTTP response status means: `ok` (200), `missing` (404, 410), or
 * the error to fail with (retried as retryableStatus says).
 */
function statusOutcome(status: number, where: string): 'ok' | 'missing' | TransferError {
  if (status === 200) return 'ok';
  if (status === 404 || status === 410) return 'missing';
  if (status === 403) {
    return new TransferError('E_IO', `${where}: forbidden (HTTP 403): the server refuses it, as it refuses private objects unless told to serve them (trove serve --include-private)`, false);
  }
  return new TransferError('E_IO', `${where}: HTTP ${status}`, retryableStatus(status));
}

/** `gzip` or undefined (identity) for a Content-Encoding header; anything else is a final error. */
function bodyEncoding(header: unknown, where: string): 'gzip' | undefined {
  const encoding = String(header ?? 'identity').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding !== 'identity') throw new TransferError('E_IO', `${where}: unsupported content encoding ${encoding}`, false);
  return undefined;
}

let baselineWasm = false;

/**
 * undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 compiles it
 * with its baseline compiler (Liftoff), then again with TurboFan on a
 * background thread, and a process does not exit before that second compile
 * has finished: about 0.16 s added to every network command (docs/benchmarks.md,
 * "Start-up of network commands"), for a parser whose work here is a few
 * hundred response heads. Liftoff's code is kept; the flag is process-wide and
 * only affects WebAssembly.
 */
function wasmBaselineOnly(): void {
  if (baselineWasm) return;
  setFlagsFromString('--liftoff-only');
  baselineWasm = true;
}

/**
 * A remote served over HTTP or HTTPS. Two undici Pools of up to `connections`
 * each: one request at a time on each connection of `pool`, and up to
 * `pipelining` small objects on each connection of `ahead`. Kept apart
 * because undici puts a request on the first connection not busy, and a
 * connection of a pipelining Pool stops being busy as soon as the response on
 * it has its headers: a large body (or a file the view waits for) would queue
 * behind a large body while another connection sat idle.
 */
export class HttpTransport extends Transport {
  private readonly pool: PoolType;
  /** Small objects sent ahead; undefined when pipelining is 1 or was turned off. */
  private ahead: PoolType | undefined;
  private readonly base: string;
  /** Pools left by stopPipelining, closing once their requests have ended. */
  private readonly retired: Promise<void>[] = [];

  constructor(url: string, init: TransportInit = {}) {
    super(url, init);
    wasmBaselineOnly();
    const u = new URL(url);
    this.base = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
    const timeout = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A process trove started without NODE_EXTRA_CA_CERTS (bin/trove.js, the mount daemon) trusts its file all the same.
    const ca = u.protocol === 'https:' ? deferredCa(() => rootCertificates) : undefined;
    const makePool = (pipelining: number) =>
      new Pool(u.origin, {
        ...(ca ? { connect: { ca } } : {}),
        connections: init.connections ?? DEFAULT_CONNECTIONS,
        pipelining,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        keepAliveTimeout: 10_000,
      });
    this.pool = makePool(1);
    const pipelining = init.pipelining ?? DEFAULT_PIPELINING;
    if (pipelining > 1) this.ahead = makePool(pipelining);
  }

  /**
   * undici sends a GET only once the response before it on the connection has
   * its headers (its `blocking`, true by default), so a pipelining depth alone
   * sends nothing ahead: requests sent ahead go with `blocking: false`.
   */
  protected override pipelines(): boolean {
    return this.ahead !== undefined;
  }

  protected override stopPipelining(): void {
    if (!this.ahead) return;
    this.retired.push(this.ahead.close().catch(() => {}));
    this.ahead = undefined;
  }

  protected async open(path: string, signal?: AbortSignal): Promise<Opened | undefined> {
    const res = await request.call(this.pool, {
      path: this.base + path,
      method: 'GET',
      headers: { 'accept-encoding': 'gzip' },
      signal,
    });
    const where = this.describe(path);
    const outcome = statusOutcome(res.statusCode, where);
    if (outcome !== 'ok') {
      await res.body.dump().catch(() => {});
      if (outcome === 'missing') return undefined;
      throw outcome;
    }
    let encoding: 'gzip' | undefined;
    try {
      encoding = bodyEncoding(res.headers['content-encoding'], where);
    } catch (err) {
      await res.body.dump().catch(() => {});
      throw err;
    }
    const len = Number(res.headers['content-length']);
    const length = Number.isFinite(len) ? len : undefined;
    return encoding ? { body: res.body, encoding, length } : { body: res.body, length };
  }

  /**
   * One GET through undici's dispatch API: callbacks instead of a body
   * stream and a promise chain per request, the cheapest way to receive
   * tens of thousands of small objects.
   */
  protected override whole(path: string, maxWire: number, max: number, att: Attempt): Promise<Whole | undefined> {
    const signal = att.outer;
    const where = this.describe(path);
    return new Promise((resolve, reject) => {
      let chunks: Buffer[] = [];
      let n = 0;
      let status = 0;
      let encoding: 'gzip' | undefined;
      let limit = maxWire;
      let settled = false;
      let onAbort: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      // undici sends a request again, calling onRequestStart with a new controller, when its connection
      // closed before the response (a server's `Connection: close`, another request's abort): the deadline
      // and the caller's signal are armed once and abort through the controller of the latest sending.
      let current: Dispatcher.DispatchController | undefined;
      const arm = () => {
        if (timer) return;
        // The deadline, without an AbortController per request (tens of thousands of small objects).
        timer = setTimeout(() => {
          att.late = true;
          current?.abort(new Error(`deadline of ${att.ms} ms`));
        }, att.ms);
      };
      const done = (err: unknown, value?: Whole) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          current = controller;
          if (signal?.aborted) return controller.abort(signal.reason);
          // A sending again starts the body over.
          chunks = [];
          n = 0;
          status = 0;
          encoding = undefined;
          limit = maxWire;
          if (!onAbort) {
            onAbort = () => current?.abort(signal!.reason);
            signal?.addEventListener('abort', onAbort, { once: true });
          }
          // A request sent ahead may wait behind the bodies before it on its connection: its deadline starts
          // with its own response (until then undici's headers timeout covers a server that stalls).
          if (!att.ahead) arm();
        },
        onResponseStart(controller, statusCode, headers) {
          arm();
          status = statusCode;
          if (status !== 200) return;
          try {
            encoding = bodyEncoding(headers['content-encoding'], where);
          } catch (err) {
            controller.abort(err as Error);
            return;
          }
          // Identity bodies stop at one byte past the limit; gzip ones at the wire cap (the inflated size is checked after).
          if (!encoding) limit = max;
          if (Number(headers['content-length']) > limit) controller.abort(tooLong(where, max));
        },
        onResponseData(controller, chunk) {
          if (status !== 200) return;
          n += chunk.length;
          if (n > limit) controller.abort(tooLong(where, max));
          else chunks.push(chunk);
        },
        onResponseEnd() {
          const outcome = statusOutcome(status, where);
          if (outcome === 'ok') done(null, { wire: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n), encoding });
          else if (outcome === 'missing') done(null, undefined);
          else done(outcome);
        },
        onResponseError(_controller, err) {
          done(err);
        },
      };
      try {
        const ahead = att.ahead ? this.ahead : undefined;
        (ahead ?? this.pool).dispatch({ path: this.base + path, method: 'GET', headers: { 'accept-encoding': 'gzip' }, blocking: !ahead }, handler);
      } catch (err) {
        done(err);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.ahead?.close(), ...this.retired]);
  }
}

/** A remote that is a directory on this machine. */
export class FileTransport extends Transport {
  protected async open(path: string): Promise<Opened | undefined> {
    const full = join(this.url, ...path.split('/'));
    const stream = createReadStream(full);
    try {
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw new TransferError('E_IO', `${full}: ${(err as Error).message}`, false, { cause: err });
    }
    return { body: stream };
  }

  async close(): Promise<void> {}
}

/** A transport for a normalised remote URL (see config.normaliseUrl). */
export function openTransport(url: string, init: TransportInit = {}): Transport {
  if (/^https?:\/\//i.test(url)) return new HttpTransport(url, init);
  return new FileTransport(url, { ...init, retries: 0 });
}
