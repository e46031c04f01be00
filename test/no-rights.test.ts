import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, trove, troveOk, TROVE_BIN } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

/** Runs the built CLI as a real process of the user `nobody`, which has no rights beyond what the test grants. */
function asNobody(args: string[]): RunResult {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, TROVE_BIN, ...args], {
    cwd: '/',
    env: { ...process.env, TROVE_REPO: undefined },
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `dir` with its size, mode and mtime: what "left as it was" means. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((name) => {
      const st = statSync(join(dir, name));
      return `${name} ${st.size} ${st.mode.toString(8)} ${st.mtimeMs} ${st.ino}`;
    });
}

describe('a user without the needed rights gets one line naming the path and what to do', () => {
  const base = tmpdir('trove-no-rights');
  const src = join(base, 'src');
  const repo = join(base, 'repo');
  const owned = join(base, 'owned');

  beforeAll(async () => {
    chmodSync(base, 0o755);
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    for (const r of [repo, owned]) {
      await troveOk(r, 'init');
      await troveOk(r, 'pkg', 'add', src, '--name', 'a', '--arch', 'amd64', '--version', '1');
      await troveOk(r, 'gen', 'build', 'a');
      await troveOk(r, 'commit', src, '-r', 'main'); // makes the index
    }
    sh('chmod', ['-R', 'a+rX', base]);
    sh('chown', ['-R', 'nobody', owned]);
  });

  it("a crashed root writer's staging directory: another user's read-only commands still work, the next root command removes it", async () => {
    // A pid that is certainly gone: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const stale = join(repo, 'tmp', `txn-${dead}-deadbeef0`);
    mkdirSync(join(stale, 'ab'), { recursive: true });
    writeFileSync(join(stale, 'ab', 'half-written'), 'x');
    for (const args of [['log', 'main'], ['ls', 'main'], ['cat', 'main:a'], ['fsck']]) {
      const r = asNobody(['--repo', repo, ...args]);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
    expect(existsSync(stale)).toBe(true);
    await troveOk(repo, 'log', 'main');
    expect(existsSync(stale)).toBe(false);
  });

  it('switch without --link: the default link /ro is in a directory the user cannot write', () => {
    expect(existsSync('/ro')).toBe(false);
    const r = asNobody(['--repo', owned, 'switch', '1']);
    expect(r.stderr).toBe('trove: cannot point /ro at the generation: no permission to create links in / (run as root, or give --link PATH in a directory you can write)\n');
    expect(r.code).toBe(1);
    expect(existsSync('/ro')).toBe(false);
    expect(readdirSync('/').filter((n) => n.startsWith('.ro.trove'))).toEqual([]);
    expect(existsSync(join(owned, 'profiles/system/active'))).toBe(false);
  });

  it('commit on an index the user cannot read: the index is left as it was, the commit lands without the stat cache', async () => {
    const index = join(owned, 'index');
    sh('chown', ['-R', 'root', index]);
    chmodSync(index, 0o700);
    const before = snapshot(index);
    writeFileSync(join(src, 'a'), 'two\n');
    const r = asNobody(['--repo', owned, 'commit', src, '-r', 'main']);
    expect(r.stderr).toBe(`trove: warning: cannot open the index at ${index}: permission denied on ${index}; carrying on without the stat cache (run as its owner, or chown/chmod it)\n`);
    expect(r.code).toBe(0);
    expect(snapshot(index)).toEqual(before);
    expect((await troveOk(owned, 'cat', 'main:a'))).toBe('two\n');
  });

  it('commit on an index whose files the user cannot read, in a directory it owns: not deleted either', () => {
    const index = join(owned, 'index');
    chmodSync(index, 0o755);
    sh('chown', ['nobody', index]);
    for (const f of readdirSync(index)) chmodSync(join(index, f), 0o600);
    const before = snapshot(index);
    writeFileSync(join(src, 'a'), 'three\n');
    const r = asNobody(['--repo', owned, 'commit', src, '-r', 'main']);
    expect(r.stderr).toMatch(new RegExp(`^trove: warning: cannot open the index at ${index}: permission denied on ${index}/\\S+; carrying on without the stat cache \\(run as its owner, or chown/chmod it\\)\\n$`));
    expect(r.code).toBe(0);
    expect(snapshot(index)).toEqual(before);
  });

  it('mount where the mount point cannot be made', () => {
    const mnt = join(base, 'rootonly', 'mnt');
    mkdirSync(join(base, 'rootonly'), { mode: 0o755 });
    const r = asNobody(['--repo', owned, 'mount', mnt]);
    expect(r.stderr).toBe(`trove: cannot create the mount point ${mnt}: permission denied (create it where you can write, or run as root)\n`);
    expect(r.code).toBe(1);
    expect(existsSync(mnt)).toBe(false);
  });

  it('mount of a repository whose mount log the user cannot write', () => {
    const mnt = join(base, 'mnt-log');
    mkdirSync(mnt, { mode: 0o777 });
    const r = asNobody(['--repo', repo, 'mount', mnt]);
    expect(r.stderr).toBe(`trove: cannot mount ${mnt}: permission denied on ${join(repo, 'mount.log')} (run as root, or let this user write it: chmod/chown)\n`);
    expect(r.code).toBe(1);
  });

  it.skipIf((statSync('/dev/fuse', { throwIfNoEntry: false })?.mode ?? 0o666) & 0o006)('mount without access to /dev/fuse says so, not "fuse failed"', () => {
    const mnt = join(base, 'mnt-fuse');
    mkdirSync(mnt, { mode: 0o777 });
    const r = asNobody(['--repo', owned, 'mount', mnt]);
    expect(r.stderr).toBe(`trove: cannot mount ${mnt}: no permission to open /dev/fuse (run as root, or give this user read-write access to /dev/fuse)\n`);
    expect(r.code).toBe(1);
  });

  it('keygen into a directory that does not exist, or one the user cannot write', async () => {
    const out = join(base, 'no/such/dir/key');
    const r = await trove(['keygen', '--out', out]);
    expect(r.stderr).toBe(`trove: cannot write key ${out}: directory ${join(base, 'no/such/dir')} does not exist (create it first)\n`);
    expect(r.code).toBe(3);
    const denied = asNobody(['keygen', '--out', join(base, 'rootonly', 'key')]);
    expect(denied.stderr).toBe(`trove: cannot write key ${join(base, 'rootonly', 'key')}: permission denied in ${join(base, 'rootonly')} (choose a directory you can write, or run as root)\n`);
    expect(denied.code).toBe(1);
  });

  it('sign, summary and remote add with a key file that is missing (exit 3) or unreadable (exit 1)', async () => {
    const missing = join(base, 'nokey');
    for (const [args, what] of [
      [['sign', 'main', '--key', missing], 'private key'],
      [['summary', '--key', missing], 'private key'],
      [['remote', 'add', 'x', repo, '--sign-key', missing], 'public key'],
    ] as const) {
      const r = await trove(['--repo', owned, ...args]);
      expect(r.stderr).toBe(`trove: ${what} ${missing} does not exist\n`);
      expect(r.code).toBe(3);
    }
    const key = join(base, 'key');
    await troveOk(owned, 'keygen', '--out', key);
    const r = asNobody(['--repo', owned, 'sign', 'main', '--key', key]);
    expect(r.stderr).toBe(`trove: cannot read private key ${key}: permission denied (run as its owner or root, or chmod it)\n`);
    expect(r.code).toBe(1);
    expect(existsSync(join(owned, 'signatures'))).toBe(false);
  });
});
