import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processState } from '../src/util/process.js';
import { trove } from './helpers/cli.js';
import { alive, mountpoints, skipFuse, until } from './helpers/fuse.js';
import { tmpdir } from './helpers/tmp.js';

/*
 * The watchdog of a FUSE view (docs/fuse.md, "Watchdog"): a daemon that is
 * stopped or hung in a loop, while a reader waits, has its connection
 * aborted and is killed, and the reader gets an error instead of waiting
 * for good; a daemon that is merely slow, or stopped with nobody waiting,
 * is left alone.
 */

interface Mounted {
  repo: string;
  mnt: string;
}

const mounts: Mounted[] = [];
const readers: ChildProcess[] = [];

/** Never leaves a hung mount: kills the daemon (SIGKILL also ends a stopped one; its death aborts the connection), aborts the connection through fusectl, detaches the mount. */
afterEach(() => {
  for (const m of mounts.splice(0)) {
    const rec = existsSync(join(m.repo, 'mount.json')) ? (JSON.parse(readFileSync(join(m.repo, 'mount.json'), 'utf8')) as { pid: number; dev?: string }) : undefined;
    const minor = rec?.dev?.split(':')[1];
    if (minor && existsSync(`/sys/fs/fuse/connections/${minor}/abort`)) writeFileSync(`/sys/fs/fuse/connections/${minor}/abort`, '1');
    if (rec && alive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
    if (mountpoints().has(m.mnt)) spawnSync('fusermount', ['-uz', m.mnt]);
  }
  for (const r of readers.splice(0)) r.kill('SIGKILL');
});

const pidOf = (repo: string) => (JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')) as { pid: number }).pid;

async function mount(m: Mounted, watchdogMs: number, fault?: string): Promise<number> {
  // The detached daemon takes its environment from the process that starts it.
  if (fault) process.env.TROVE_FUSE_FAULT = fault;
  try {
    const r = await trove(['--repo', m.repo, 'mount', m.mnt, '--watchdog-ms', String(watchdogMs)]);
    expect(r.code, r.stderr).toBe(0);
  } finally {
    delete process.env.TROVE_FUSE_FAULT;
  }
  mounts.push(m);
  return pidOf(m.repo);
}

/** Runs `cmd args` as its own process; resolves with its exit code, stderr and how long it took, or 'hung' after `ms`. */
function run(cmd: string, args: string[], ms: number): Promise<{ code: number | null; stderr: string; stdout: Buffer; tookMs: number } | 'hung'> {
  const t0 = Date.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  readers.push(child);
  let stderr = '';
  const out: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => {
    const timer = setTimeout(() => res('hung'), ms);
    // 'close', not 'exit': only then has everything the child wrote to stdout and stderr been read.
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stderr, stdout: Buffer.concat(out), tookMs: Date.now() - t0 });
    });
  });
}

const log = (repo: string) => readFileSync(join(repo, 'mount.log'), 'utf8');

describe.skipIf(skipFuse())('the FUSE watchdog (real mounts)', () => {
  let dir: string;
  let repo: string;
  let id: string;
  let big: Buffer;

  beforeAll(async () => {
    dir = tmpdir('trove-fuse-wd');
    repo = join(dir, 'repo');
    const src = join(dir, 'src');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'os-release'), 'ID=trove\n');
    for (let i = 0; i < 4; i++) writeFileSync(join(src, 'etc', `f${i}`), `file ${i}\n`);
    big = randomBytes(32 << 20);
    writeFileSync(join(src, 'big'), big);
    const r = await trove(['--repo', repo, 'commit', src, '--ref', 'main', '-m', 'tree']);
    expect(r.code, r.stderr).toBe(0);
    id = readFileSync(join(repo, 'refs', 'heads', 'main'), 'utf8').trim();
  });

  it('aborts the mount of a stopped daemon: a waiting reader fails within the limit, the log says why, and the view mounts again', async () => {
    const m = { repo, mnt: join(dir, 'mnt-stop') };
    const pid = await mount(m, 3000);
    process.kill(pid, 'SIGSTOP');
    expect(await until(() => processState(pid) === 'T')).toBe(true);
    // A reader in a process of its own: without the watchdog it would wait for good.
    const r = await run('cat', [join(m.mnt, 'commits', id, 'etc', 'f0')], 15_000);
    expect(r).not.toBe('hung');
    if (r === 'hung') return;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Transport endpoint is not connected|Software caused connection abort/);
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    expect(log(repo)).toMatch(new RegExp(`watchdog: the daemon \\(pid ${pid}, stopped\\) has not answered for [\\d.]+ s \\(limit 3000 ms\\) with \\d+ requests? waiting on ${m.mnt}; aborted its FUSE connection`));
    // `trove mount` again cleans the dead mount and serves.
    const again = await trove(['--repo', repo, 'mount', m.mnt, '--watchdog-ms', '3000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/cleaned a stale mount/);
    expect(readFileSync(join(m.mnt, 'commits', id, 'etc', 'f0'), 'utf8')).toBe('file 0\n');
    expect((await trove(['--repo', repo, 'umount', m.mnt])).code).toBe(0);
  }, 40_000);

  it('aborts the mount of a daemon hung in a busy loop (TROVE_FUSE_FAULT=spin-on-open)', async () => {
    const m = { repo, mnt: join(dir, 'mnt-spin') };
    const pid = await mount(m, 3000, 'spin-on-open');
    const r = await run('cat', [join(m.mnt, 'commits', id, 'etc', 'f1')], 15_000);
    expect(r).not.toBe('hung');
    if (r === 'hung') return;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Transport endpoint is not connected|Software caused connection abort/);
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    expect(log(repo)).toMatch(new RegExp(`watchdog: the daemon \\(pid ${pid}, running: busy in a loop\\) has not answered .* aborted its FUSE connection \\S+ \\(readers get ENOTCONN\\) and kills it \\(SIGKILL\\)`));
    // The mount is left dead, as after a crash: umount cleans it.
    const u = await trove(['--repo', repo, 'umount', m.mnt]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/daemon had died/);
    expect(mountpoints().has(m.mnt)).toBe(false);
  }, 40_000);

  it('leaves a healthy daemon alone while it serves a long, slow read', async () => {
    const m = { repo, mnt: join(dir, 'mnt-slow') };
    const before = log(repo).length;
    const pid = await mount(m, 500);
    // 32 MiB in 256 KiB reads, 40 ms apart: about 5 s, ten times the limit, every read a request of its own.
    const reader = `
      const fs = require('node:fs'); const h = require('node:crypto').createHash('sha256');
      const fd = fs.openSync(process.argv[1], 'r'); const buf = Buffer.alloc(256 << 10); let pos = 0;
      for (;;) { const n = fs.readSync(fd, buf, 0, buf.length, pos); if (n === 0) break; h.update(buf.subarray(0, n)); pos += n;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40); }
      process.stdout.write(h.digest('hex') + ' ' + pos);`;
    const r = await run(process.execPath, ['-e', reader, join(m.mnt, 'commits', id, 'big')], 60_000);
    expect(r).not.toBe('hung');
    if (r === 'hung') return;
    expect(r.code, r.stderr).toBe(0);
    expect(r.tookMs).toBeGreaterThan(2500);
    expect(r.stdout.toString()).toBe(`${createHash('sha256').update(big).digest('hex')} ${big.length}`);
    expect(alive(pid)).toBe(true);
    expect(log(repo).slice(before)).not.toMatch(/watchdog/);
    expect((await trove(['--repo', repo, 'umount', m.mnt])).code).toBe(0);
  }, 90_000);

  it('leaves a stopped daemon alone while no request waits; umount refuses it, umount --force aborts it', async () => {
    const m = { repo, mnt: join(dir, 'mnt-idle') };
    const before = log(repo).length;
    const pid = await mount(m, 500);
    process.kill(pid, 'SIGSTOP');
    expect(await until(() => processState(pid) === 'T')).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGCONT');
    expect(readFileSync(join(m.mnt, 'commits', id, 'etc', 'f2'), 'utf8')).toBe('file 2\n');
    expect(log(repo).slice(before)).not.toMatch(/watchdog/);

    // Stopped again: commands that would ask it refuse at once instead of waiting.
    process.kill(pid, 'SIGSTOP');
    expect(await until(() => processState(pid) === 'T')).toBe(true);
    const refused = await trove(['--repo', repo, 'umount', m.mnt]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot unmount ${m.mnt}: its daemon (pid ${pid}) is stopped; trove umount --force`);
    const remount = await trove(['--repo', repo, 'mount', m.mnt]);
    expect(remount.code).toBe(1);
    expect(remount.stderr).toMatch(/does not answer: its daemon \(pid \d+\) is stopped/);
    const forced = await trove(['--repo', repo, 'umount', '--force', m.mnt]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`${m.mnt}: its daemon (pid ${pid}) is stopped: aborted its FUSE connection and killed it (pid ${pid})`);
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    expect(mountpoints().has(m.mnt)).toBe(false);
    expect(existsSync(join(repo, 'mount.json'))).toBe(false);
  }, 40_000);
});
