import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type ErrorCode, type ErrorData, exists, ioError, isErrno, isTroveError, notFound, TroveError, usage } from '../util/errors.js';
import { io } from '../util/io.js';
import { clearMount, daemonUnresponsive, mountProblem, mountTable, processAlive, processStartTime, readMountRecord, writeMount } from '../system/mounts.js';
import { DiskStore } from '../store/disk.js';
import type { GetStore, GetSyncStore, ObjectFiles } from '../store/types.js';
import { BlobReader } from './blobs.js';
import type { LazyFetcher } from './lazy-fetch.js';
import { AccessTrace } from './trace.js';
import { commitFiles, hasPartials, readPartial, traceEntries } from '../repo/partial.js';
import type { InstallTarget } from '../remote/install.js';
import type { ObjectId } from '../util/hash.js';
import { RequestCounts } from './counts.js';
import { type FuseHandlers, getBaseHandlers } from './handlers.js';
import { abortConnection, connectionIno, fuseConnection, fusermount, mountState } from './mountpoint.js';
import { inodeLimit, mountFuse, type NativeMountOptions } from './native.js';
import { RepoSource } from './source.js';
import { TroveView } from './view.js';
import { SiblingWarmer } from './warm.js';
import { warmFiles } from '../util/file-batches.js';
import { DEFAULT_WATCHDOG_MS, HeartbeatWriter, startWatchdog } from './watchdog.js';
import type { PrewarmOrder } from './main.js';
import { daemonEnv, takePrewarmed } from './prewarm.js';

/** Options of `trove mount`; defaults as documented on each field. */
export interface MountOptions extends NativeMountOptions {
  /** Memory bound of the decoded-tree cache, MiB (default 64). */
  cacheMb?: number;
  /** Lines for the log (default: stderr). */
  log?: (line: string) => void;
  /**
   * ms without a heartbeat, while requests wait, after which the watchdog
   * aborts the mount's connection and kills the daemon (default 10 000; 0:
   * no watchdog). See watchdog.ts.
   */
  watchdogMs?: number;
  /**
   * How long a read waits for a blob of a partial commit to arrive from its
   * remote before it fails with EIO, in ms (default 20 000; see lazy-fetch.ts).
   */
  fetchTimeoutMs?: number;
  /** How long after the first read under a partial commit its reads are traced, in ms (default 60 000; see trace.ts). */
  traceMs?: number;
}

/** What the daemon needs of a repository: its directory and object store. */
export interface RepoLike {
  path: string;
  /** Trees and commits by id (verified), and the files of blobs to serve. */
  store: GetStore & GetSyncStore & ObjectFiles;
  /** Where blobs of partial commits fetched on their first read go (default: none, a missing blob is EIO). */
  installer?: InstallTarget & Pick<ObjectFiles, 'pathOf'>;
}

/** The object store of the repository at `path` (already validated by whoever started the daemon). */
export function storeAt(path: string): RepoLike {
  const store = new DiskStore({ objectsDir: join(path, 'objects'), tmpDir: join(path, 'tmp') });
  return { path, store, installer: store };
}

/**
 * The files of a commit, by blob id, with their size and whether an entry is
 * executable (commitFiles), two hundred at a time between turns of the event
 * loop, so requests are answered meanwhile.
 */
async function filesOf(store: GetSyncStore, commit: ObjectId): Promise<Map<ObjectId, { size: number; executable: boolean }>> {
  const out = new Map<ObjectId, { size: number; executable: boolean }>();
  for (const e of commitFiles(store, commit)) {
    out.set(e.id!, { size: e.size!, executable: (e.mode & 0o111) !== 0 });
    if (out.size % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  return out;
}

/** Traced files fetched ahead of their reads at once (reads themselves are not held back by these). */
const PREFETCH_JOBS = 4;
/** How long the view trusts a listing of partial/ that found partial commits (see mayFetch below), in ms. */
const PARTIALS_KEPT_MS = 1000;

/** The log of a detached daemon: `<repo>/mount.log`. */
export const logPath = (repo: { path: string }) => join(repo.path, 'mount.log');

/**
 * Makes `mountpoint` ready for a new mount: refuses a live mount there or a
 * live mount of this repository elsewhere, cleans a mount left by a daemon
 * that died, and creates the directory. Returns notes for the user.
 */
export async function prepareMountpoint(repo: { path: string }, mountpoint: string): Promise<string[]> {
  const notes: string[] = [];
  const rec = await readMountRecord(repo.path);
  // A daemon that cannot answer would block every probe of its mount below.
  const hung = rec && rec.pid !== process.pid ? daemonUnresponsive(repo.path, rec) : null;
  if (rec && hung) {
    throw ioError(
      `the repository's view at ${rec.mountpoint} does not answer: ${hung}; its watchdog aborts it once a reader waits, or run: trove umount --force ${rec.mountpoint}`,
      { path: rec.mountpoint, pid: rec.pid },
    );
  }
  const live = rec !== undefined && (await mountProblem(rec, repo.path)) === null;
  if (rec && live && rec.pid !== process.pid) {
    const where = rec.mountpoint === mountpoint ? 'there' : `at ${rec.mountpoint}`;
    throw exists(`the repository is already mounted ${where} (daemon pid ${rec.pid}); unmount it first: trove umount ${rec.mountpoint}`, { path: rec.mountpoint, pid: rec.pid });
  }
  const st = await mountState(mountpoint);
  if (st.state === 'live') throw exists(`${mountpoint} is already a mount point (${st.fstype}); unmount it first`, { path: mountpoint });
  if (st.state === 'stale') {
    const r = fusermount(mountpoint, true);
    if (!r.ok) throw ioError(`${mountpoint} holds a dead FUSE mount that could not be cleaned: ${r.message}`, { path: mountpoint });
    notes.push(`cleaned a stale mount at ${mountpoint} (its daemon had died)`);
  }
  // A record whose daemon is gone, or whose mount is, is stale: this mount replaces it.
  if (rec && !live) await clearMount(repo.path);
  try {
    if (!statSync(mountpoint).isDirectory()) throw usage(`${mountpoint} is not a directory`);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    try {
      mkdirSync(mountpoint, { recursive: true });
    } catch (e) {
      if (!isErrno(e, 'EACCES') && !isErrno(e, 'EPERM')) throw e;
      throw ioError(`cannot create the mount point ${mountpoint}: permission denied (create it where you can write, or run as root)`, { path: mountpoint }, { cause: e });
    }
  }
  return notes;
}

/** A running view: how long it took and how to stop it. */
export interface Served {
  /** ms from the start of this process until the mount answered. */
  readyMs: number;
  /** ms spent in the mount call itself. */
  mountMs: number;
  /** The libfuse the view is served through (native.ts). */
  libfuse: 2 | 3;
  stop(): Promise<void>;
}

/**
 * Serves the repository at `mountpoint` from this process until stopped:
 * records it in `<repo>/mount.json`, and stops (clearing the record) on
 * SIGTERM, SIGINT or SIGHUP, or when the mount disappears from under it.
 */
export async function serve(repo: RepoLike, mountpoint: string, opts: MountOptions = {}): Promise<Served> {
  const log = opts.log ?? ((line: string) => io().stderr.write(`${line}\n`));
  const t0 = performance.now();
  const view = new TroveView(new RepoSource(repo.store, repo.path), {
    treeCacheBytes: (opts.cacheMb ?? 64) << 20,
    inodeLimit: inodeLimit(opts.libfuse),
    // A partial commit's first read comes first from the command that activates it (its check of the link's
    // target), before any of its files: the fetcher and its HTTP client load then, not on the first file's read.
    // Its traced files are fetched from then on too (prefetch), not from its first file's read.
    onCommit: (id) => {
      if (!theFetcher || !readPartial(repo.path, id)) return;
      theFetcher().catch(() => undefined);
      prefetch(id);
    },
  });
  // Beats from the event loop, which answers every request; the watchdog starts before
  // the mount, so that it never holds a descriptor of the FUSE device.
  const watchdogMs = opts.watchdogMs ?? DEFAULT_WATCHDOG_MS;
  const heart = new HeartbeatWriter(repo.path, watchdogMs);
  const beats = setInterval(() => heart.beat(), heart.interval);
  beats.unref();
  if (watchdogMs > 0) startWatchdog(repo.path, processStartTime(process.pid), mountpoint, watchdogMs);
  // Blobs of partial commits (a lazy install or upgrade) are fetched on their first read. The fetcher and
  // its HTTP client are loaded when the view first reads a partial commit (onCommit above): a mount of a
  // complete repository never pays for them.
  const installer = repo.installer;
  let fetcher: Promise<LazyFetcher> | undefined;
  const theFetcher = installer
    ? () => (fetcher ??= import('./lazy-fetch.js').then((m) => new m.LazyFetcher({ repoPath: repo.path, store: installer, timeoutMs: opts.fetchTimeoutMs, log })))
    : undefined;
  // Prefetches wait until a blob is stored; a read is answered from its verified bytes as soon as they came.
  const fetchMissing = theFetcher && (async (id: ObjectId, size: number, executable: boolean) => (await theFetcher()).fetch(id, size, executable));
  const fetchForRead = theFetcher && (async (id: ObjectId, size: number, executable: boolean) => (await theFetcher()).fetchBytes(id, size, executable));
  // When a partial commit is first read, the blobs its traces name (of this generation, else of others
  // holding the same files) are fetched ahead of the reads that will want them, a few at a time, through
  // the same fetcher: a read of one already on its way waits for that download, not for a second one.
  // Only files of the commit itself are fetched, with the size and mode its trees give: a trace (a
  // server's, say) cannot name anything else, nor make a read of a file fail by a wrong size.
  // Started once per commit: from the commit's first read (onCommit), else from its first file's read
  // (the access trace), which looks for traces again when there were none at the commit's read.
  const prefetched = new Set<ObjectId>();
  const prefetch = (commit: ObjectId): void => {
    if (!fetchMissing || prefetched.has(commit)) return;
    const traced = traceEntries(repo.path, commit);
    if (traced.length === 0) return;
    prefetched.add(commit);
    let failed = 0;
    void filesOf(repo.store, commit)
      .then(async (files) => {
        const queue = traced.filter((e) => files.has(e.id)).map((e) => ({ id: e.id, ...files.get(e.id)! }));
        const next = async (): Promise<void> => {
          for (let e = queue.shift(); e; e = queue.shift()) {
            if (existsSync(repo.store.pathOf(e.id))) continue;
            try {
              await fetchMissing(e.id, e.size, e.executable);
            } catch {
              failed++;
            }
          }
        };
        await Promise.all(Array.from({ length: PREFETCH_JOBS }, next));
        if (failed > 0) log(`prefetch of the traced files of ${commit}: ${failed} could not be fetched (they are fetched when read)`);
      })
      .catch((err: unknown) => log(`prefetch of the traced files of ${commit}: ${(err as Error).message}`));
  };
  const trace = new AccessTrace(repo.path, opts.traceMs, prefetch);
  let partialsSeenAt = -Infinity;
  const warmer = new SiblingWarmer({ treeAbove: (path) => view.treeAbove(path), filesOf: (tree) => view.filesOf(tree), pathOf: (id) => repo.store.pathOf(id), warm: warmFiles });
  const blobs = new BlobReader({
    pathOf: (id) => repo.store.pathOf(id),
    progress: () => heart.beat(),
    fetchMissing: fetchForRead,
    mayFetch: () => {
      // A yes is kept for a second: a listing of partial/ for every missing blob cost each first read of
      // a lazy install a readdir. A commit made complete meanwhile changes nothing for its reads (its
      // blobs are all stored), and any other missing blob is fetched only if a remote has it, verified.
      const now = Date.now();
      if (now - partialsSeenAt < PARTIALS_KEPT_MS) return true;
      const yes = hasPartials(repo.path);
      if (yes) partialsSeenAt = now;
      return yes;
    },
    onOpen: (id, path, size) => {
      trace.note(id, path, size);
      warmer.opened(path);
    },
  });
  const requests = new RequestCounts();
  const handlers = requests.wrap(withFault(getBaseHandlers(view, blobs, { zeroMessageOpen: true, log }), process.env.TROVE_FUSE_FAULT));
  let mount: Awaited<ReturnType<typeof mountFuse>>;
  try {
    mount = await mountFuse(mountpoint, handlers, { immutablePrefix: '/commits/', ...opts });
  } catch (err) {
    clearInterval(beats);
    heart.close();
    throw err;
  }
  const mountMs = performance.now() - t0;
  // Our mount, as opposed to a later one on the same point.
  const conn = mountTable().get(mountpoint)?.dev ?? '';
  // And which connection of that number: ours, not a later mount's that was given it (connectionIno).
  const ctl = conn ? connectionIno(conn) : undefined;
  if (conn) heart.mounted(conn, ctl);
  // Pid and start time name this process; the device names this mount (see readMount).
  await writeMount(repo.path, {
    mountpoint,
    pid: process.pid,
    started: processStartTime(process.pid),
    ...(conn ? { dev: conn } : {}),
    ...(ctl !== undefined ? { ctl } : {}),
  });
  /** Whether the mount at the mount point is still this one: its number, and not a later connection given that number. */
  const stillOurs = () => mountTable().get(mountpoint)?.dev === conn && (ctl === undefined || connectionIno(conn) === ctl);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(watch);
      clearInterval(beats);
      if (stillOurs()) {
        await mount.unmount().catch((err: unknown) => log(`unmount: ${(err as Error).message}`));
        // The kernel ends a connection when the last descriptor of its device closes. An invalidation
        // under way holds one (native/fuse3.c), and may wait for a readlink no one will answer now:
        // ended here, so that neither it nor the process's exit waits for good.
        if (conn && fuseConnection(conn, ctl)) abortConnection(conn);
      }
      blobs.close();
      trace.flush();
      await fetcher
        ?.then(async (f) => {
          log(`fetched on read: ${f.stats.fetched} blobs (${f.stats.bytes} bytes), ${f.stats.failed} failed`);
          await f.close();
        })
        .catch(() => undefined);
      const rec = await readMountRecord(repo.path).catch(() => undefined);
      if (rec?.pid === process.pid) await clearMount(repo.path);
      heart.close();
    })());
  // Unmounted by someone else: exit, unless it was detached lazily and still
  // has users (its FUSE connection lives on), who must keep being served.
  let draining = false;
  const watch = setInterval(() => {
    if (stillOurs()) return;
    if (fuseConnection(conn, ctl)) {
      if (!draining) log(`${mountpoint} was detached lazily; serving its remaining users until they leave`);
      draining = true;
      return;
    }
    log(`${mountpoint} was unmounted; exiting`);
    void stop().then(() => process.exit(0));
  }, 2000);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: unmounting ${mountpoint}`);
      void stop().then(() => process.exit(0));
    });
  }
  // `kill -USR2 <pid>`: caches, memory and the requests answered so far into the log.
  process.on('SIGUSR2', () => {
    const m = process.memoryUsage();
    const c = view.cacheStats();
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    log(
      `stats: ${c.trees} trees (${mb(c.treeBytes)} estimated), ${c.nodes} paths, ${view.inodes.size} inode blocks (${view.inodes.used} numbers); ` +
        `rss ${mb(m.rss)}, heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)}; object files read ahead ${warmer.warmed}`,
    );
    log(`requests: ${JSON.stringify(requests.counts())}`);
    log(`request-ms: ${JSON.stringify(requests.millis())}`);
  });
  // A bug in one request must not take the whole view down with it.
  process.on('uncaughtException', (err) => log(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  return { readyMs: performance.now(), mountMs, libfuse: mount.libfuse, stop };
}

/**
 * Test-only faults of the daemon, chosen by the environment variable
 * TROVE_FUSE_FAULT (docs/fuse.md, "Watchdog"): `spin-on-open` makes every
 * open a busy loop that never returns, a daemon hung on its serving thread.
 */
function withFault(handlers: FuseHandlers, fault: string | undefined): FuseHandlers {
  if (fault !== 'spin-on-open') return handlers;
  return {
    ...handlers,
    open: () => {
      for (let spins = 0; spins >= 0; spins = (spins + 1) % 1e9) {
        // Never returns: the event loop, and with it the heartbeat, stops.
      }
    },
  };
}

const stamp = (line: string) => `${new Date().toISOString()} ${line}`;

/**
 * The daemon: prepares the mount point, serves, and tells a parent that
 * started it (over the IPC channel, when there is one) that it is ready or
 * why it failed. Logs go to stderr. Returns once serving; a signal or an
 * unmount ends the process.
 */
export async function runDaemon(repo: RepoLike, mountpoint: string, opts: MountOptions = {}): Promise<Served> {
  const tell = (msg: DaemonMessage) => process.send?.(msg);
  const log = opts.log ?? ((line: string) => io().stderr.write(`${stamp(line)}\n`));
  try {
    for (const note of await prepareMountpoint(repo, mountpoint)) log(note);
    const s = await serve(repo, mountpoint, { ...opts, log });
    log(`serving ${repo.path} at ${mountpoint} (pid ${process.pid}; libfuse ${s.libfuse}; mount ${s.mountMs.toFixed(1)} ms, ready ${s.readyMs.toFixed(1)} ms after start)`);
    tell({ ready: true, pid: process.pid, readyMs: s.readyMs, mountMs: s.mountMs });
    return s;
  } catch (err) {
    log(`mount failed: ${(err as Error).message}`);
    tell({ error: (err as Error).message, code: isTroveError(err) ? err.code : 'E_IO', data: isTroveError(err) ? err.data : undefined });
    throw err;
  }
}

/**
 * The daemon's own entry point: `trove mount --foreground` minus the CLI, so
 * a detached mount does not pay for loading every command (node itself
 * starts in about 80 ms here; the whole CLI takes 300 ms more). It is always
 * the built one: main.js beside this module, which in the bundle
 * (scripts/bundle.mjs) is dist/bundle/main.js; when this module runs from src/
 * (under the tests), dist/bundle/main.js too.
 */
const HERE = fileURLToPath(import.meta.url);
const DAEMON_MAIN = HERE.endsWith('.ts') ? join(dirname(HERE), '..', '..', 'dist', 'bundle', 'main.js') : join(dirname(HERE), 'main.js');

/** What the foreground daemon tells a parent that started it. */
export type DaemonMessage = { ready: true; pid: number; readyMs: number; mountMs: number } | { error: string; code: string; data?: ErrorData };

/** Options of startDaemon; defaults as documented on each field. */
export interface StartOptions {
  /** ms to wait for the daemon to say its mount answers before killing it (default 10 000). */
  readyTimeoutMs?: number;
  /** The daemon's entry script (default: main.js beside this module). */
  main?: string;
}

/**
 * Starts the daemon (the same `serve` as `trove mount --foreground`) detached,
 * logging to `<repo>/mount.log`; waits until its mount answers (or it fails,
 * or does not answer in time: then it is killed), and leaves it running.
 */
export async function startDaemon(
  repo: { path: string },
  mountpoint: string,
  args: string[],
  opts: StartOptions = {},
): Promise<Extract<DaemonMessage, { ready: true }>> {
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  // Opened here whoever writes it: a log this user cannot write fails the command (EACCES, with the path)
  // before any daemon mounts, and the command says what to do.
  const log = openSync(logPath(repo), 'a');
  let child: ChildProcess;
  // The daemon the command started ahead (prewarm.ts), once it listens: it takes its arguments and log now.
  const pre = opts.main === undefined ? takePrewarmed() : undefined;
  // Held from here on: waiting for it must keep this process alive.
  pre?.child.ref();
  pre?.child.channel?.ref();
  if (pre && (await pre.listening) && pre.child.connected) {
    child = pre.child;
    child.send({ args: [repo.path, mountpoint, ...args], log: logPath(repo) } satisfies PrewarmOrder);
  } else {
    if (pre) pre.child.kill();
    child = spawn(process.execPath, ['--expose-gc', opts.main ?? DAEMON_MAIN, repo.path, mountpoint, ...args], { detached: true, stdio: ['ignore', log, log, 'ipc'], env: daemonEnv() });
  }
  closeSync(log);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let timer: NodeJS.Timeout | undefined;
  const msg = await new Promise<DaemonMessage | 'timeout'>((res) => {
    timer = setTimeout(() => res('timeout'), timeoutMs);
    child.once('message', (m) => res(m as DaemonMessage));
    child.once('error', (err) => res({ error: err.message, code: 'E_IO' }));
    child.once('exit', (code, signal) => res({ error: `the mount daemon exited (${signal ?? `code ${code}`}); see ${logPath(repo)}:\n${tail(logPath(repo))}`, code: 'E_IO' }));
  }).finally(() => clearTimeout(timer));
  if (msg === 'timeout') {
    // Hung (in the mount call, or before it): SIGTERM may never be handled.
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if ((await mountState(mountpoint)).state === 'stale') fusermount(mountpoint, true);
    throw ioError(
      `the mount daemon (pid ${child.pid}) did not answer within ${timeoutMs / 1000} s, so it was killed; see ${logPath(repo)}:\n${tail(logPath(repo))}`,
      { path: mountpoint, pid: child.pid },
    );
  }
  if ('error' in msg) {
    child.kill();
    throw new TroveError(msg.code as ErrorCode, msg.error, { data: msg.data });
  }
  child.disconnect();
  child.unref();
  return msg;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/** What `unmount` did. */
export interface UnmountResult {
  lazy: boolean;
  stale: boolean;
  stoppedPid?: number;
  /** Why the daemon did not answer, when its connection was aborted (with `force`). */
  aborted?: string;
}

/** Why the daemon of the repository's view at `mountpoint` cannot answer now, or null (see daemonUnresponsive). */
export async function unresponsiveView(repo: { path: string }, mountpoint: string): Promise<string | null> {
  const rec = await readMountRecord(repo.path);
  return rec?.mountpoint === mountpoint ? daemonUnresponsive(repo.path, rec) : null;
}

/**
 * Unmounts a trove view (or the remains of one whose daemon died): fusermount
 * -u, else lazily with -uz when busy; stops the daemon and clears the record.
 */
export async function unmount(repo: { path: string } | undefined, mountpoint: string, opts: { force?: boolean } = {}): Promise<UnmountResult> {
  const rec = repo ? await readMountRecord(repo.path) : undefined;
  const ours = rec?.mountpoint === mountpoint ? rec : undefined;
  // A daemon that cannot answer would block every request below: refuse, or (forced) abort its connection and kill it.
  const hung = ours && repo ? daemonUnresponsive(repo.path, ours) : null;
  let aborted: { why: string; pid: number } | undefined;
  if (ours && hung) {
    if (!opts.force) {
      throw ioError(`cannot unmount ${mountpoint}: ${hung}; trove umount --force ${mountpoint} aborts its connection and kills it`, { path: mountpoint, pid: ours.pid });
    }
    const dev = ours.dev ?? mountTable().get(mountpoint)?.dev;
    // A connection of that number that is not the daemon's (its own ended, the number given again) is left alone.
    const another = dev !== undefined && ours.ctl !== undefined && connectionIno(dev) !== ours.ctl;
    const failed = !dev ? 'the mount has no device' : another ? 'its connection has ended' : abortConnection(dev);
    // Killing it closes the FUSE device, which aborts the connection too when fusectl could not.
    if (processAlive(ours.pid, ours.started)) process.kill(ours.pid, 'SIGKILL');
    for (let i = 0; i < 100 && processAlive(ours.pid, ours.started); i++) await new Promise((r) => setTimeout(r, 20));
    if (failed !== null && processAlive(ours.pid, ours.started)) {
      throw ioError(`cannot unmount ${mountpoint}: ${hung}, and its connection could not be aborted (${failed}) nor the daemon killed`, { path: mountpoint, pid: ours.pid });
    }
    aborted = { why: hung, pid: ours.pid };
  }
  const st = await mountState(mountpoint);
  // The record goes when it is this mount's, or stale; a live mount elsewhere keeps its own.
  const clear = ours !== undefined || (rec !== undefined && (await mountProblem(rec, repo?.path)) !== null);
  if (st.state === 'none') {
    if (repo && clear) await clearMount(repo.path);
    throw notFound(`${mountpoint} is not mounted`, { path: mountpoint });
  }
  if (st.state === 'live' && !st.fstype.startsWith('fuse')) {
    throw usage(`${mountpoint} is a ${st.fstype} mount, not a trove view`, { path: mountpoint });
  }
  const result: UnmountResult = { lazy: false, stale: st.state === 'stale' && !aborted, ...(aborted ? { aborted: aborted.why, stoppedPid: aborted.pid } : {}) };
  let r = fusermount(mountpoint, false);
  if (!r.ok) {
    r = fusermount(mountpoint, true);
    if (!r.ok) throw ioError(`could not unmount ${mountpoint}: ${r.message}`, { path: mountpoint });
    result.lazy = true;
  }
  // Lazily detached: the daemon still serves whoever has files open there, and
  // exits by itself when they are gone (or at once when it cannot tell).
  // Only a daemon whose mount was live is signalled, and only while its pid names the same
  // process (start time, when recorded): a stale mount's daemon is gone, its pid maybe reused.
  if (ours && st.state === 'live' && !result.lazy && (await stopProcess(ours.pid, ours.started))) result.stoppedPid = ours.pid;
  if (repo && clear) await clearMount(repo.path);
  return result;
}

/** SIGTERM, then SIGKILL after 3 s; false when it was not running. */
async function stopProcess(pid: number, started?: number): Promise<boolean> {
  const alive = () => processAlive(pid, started);
  if (!alive()) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 60 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGKILL');
  return true;
}
