import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashBytes } from '../src/util/hash.js';
import { alive, mountpoints, mountRepo, skipFuse, until } from './helpers/fuse.js';
import { troveIn } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { type MountRecord, mountProblem, processStartTime, readMount, writeMount } from '../src/system/mounts.js';

// Opens LINK/bin/tool, reads the first half, says where its fd points, waits
// for a line on stdin, reads the rest through the same fd, then opens the path again.
const HOLDER = `
  const fs = require('fs'); const h = (b) => require('crypto').createHash('sha256').update(b).digest('hex');
  const path = process.argv[1] + '/bin/tool';
  const fd = fs.openSync(path, 'r'); const size = fs.fstatSync(fd).size;
  const first = Buffer.alloc(size >> 1); fs.readSync(fd, first, 0, first.length, 0);
  process.stdout.write('half ' + fs.readlinkSync('/proc/self/fd/' + fd) + '\\n');
  process.stdin.once('data', () => {
    const rest = Buffer.alloc(size - first.length); fs.readSync(fd, rest, 0, rest.length, first.length);
    process.stdout.write('held ' + h(Buffer.concat([first, rest])) + ' reopened ' + h(fs.readFileSync(path)) + '\\n');
    process.exit(0);
  });`;

describe.skipIf(skipFuse())('switch and rollback on a real mount (CLI end to end)', () => {
  let dir: string;
  let repo: string;
  let mnt: string;
  let link: string;
  const tools: Buffer[] = [];
  const commits: string[] = [];
  let cli: ReturnType<typeof troveIn>;

  beforeAll(async () => {
    dir = tmpdir('trove-fuse-act');
    repo = join(dir, 'repo');
    cli = troveIn(repo);
    mnt = join(dir, 'mnt');
    link = join(dir, 'ro');
    expect((await cli('init')).code).toBe(0);
    // Generations 1 and 2 of profile system: package base 1.0, then 2.0, each with its own etc/id and bin/tool.
    for (const n of [1, 2]) {
      const src = join(dir, `base-${n}`);
      mkdirSync(join(src, 'etc'), { recursive: true });
      mkdirSync(join(src, 'bin'));
      writeFileSync(join(src, 'etc', 'id'), `${n}\n`);
      tools.push(randomBytes(3 << 20));
      writeFileSync(join(src, 'bin', 'tool'), tools[n - 1]!, { mode: 0o755 });
      const add = await cli('pkg', 'add', src, '--name', 'base', '--arch', 'amd64', '--version', `${n}.0`);
      expect(add.code, add.stderr).toBe(0);
      const gen = await cli('gen', 'build', 'base', '--json');
      expect(gen.code, gen.stderr).toBe(0);
      const r = JSON.parse(gen.stdout) as { generation: number; commit: string };
      expect(r.generation).toBe(n);
      commits.push(r.commit);
    }
  });

  it('mount, switch into it, keep an open file across a second switch, roll back, umount', async () => {
    const pid = await mountRepo(repo, mnt);
    expect(JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8'))).toMatchObject({ mountpoint: mnt, pid });

    // With a mount recorded, the link points into the view, not at a checkout.
    const first = await cli('switch', '1', '--link', link);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/generation 1 /);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[0]!));
    expect(readdirSync(join(repo, 'checkouts'))).toEqual([]);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1\n');

    const holder = spawn(process.execPath, ['-e', HOLDER, link], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => holder.on('exit', r));
    expect(await until(() => out.includes('\n'), 10_000), out).toBe(true);
    // Its fd belongs to generation 1's file inside the mount.
    expect(out).toBe(`half ${join(mnt, 'commits', commits[0]!, 'bin', 'tool')}\n`);

    // The second switch uses the link recorded by the first.
    const second = await cli('switch', '2');
    expect(second.code, second.stderr).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2\n');
    expect(hashBytes(readFileSync(join(link, 'bin', 'tool')))).toBe(hashBytes(tools[1]!));

    holder.stdin.write('go\n');
    await exited;
    expect(out.split('\n')[1]).toBe(`held ${hashBytes(tools[0]!)} reopened ${hashBytes(tools[1]!)}`);

    const back = await cli('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/generation 1 /);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[0]!));
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1\n');
    expect(hashBytes(readFileSync(join(link, 'bin', 'tool')))).toBe(hashBytes(tools[0]!));

    const um = await cli('umount', mnt);
    expect(um.code, um.stderr).toBe(0);
    expect(um.stdout).toMatch(new RegExp(`unmounted ${mnt} \\(stopped daemon pid ${pid}\\)`));
    expect(mountpoints().has(mnt)).toBe(false);
    expect(existsSync(join(repo, 'mount.json'))).toBe(false);
    expect(await until(() => !alive(pid))).toBe(true);
  });

  it('umount re-points an active link off the view to a checkout; --force leaves it dangling and status names the problem', async () => {
    await mountRepo(repo, mnt);
    expect((await cli('switch', '2', '--link', link)).code).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));

    // Default: the link moves to a checkout of the same commit first, the record with it.
    const um = await cli('umount', mnt, '--json');
    expect(um.code, um.stderr).toBe(0);
    const co = join(repo, 'checkouts', commits[1]!);
    expect(JSON.parse(um.stdout)).toMatchObject({
      mountpoint: mnt,
      repointed: [{ profile: 'system', role: 'active', link, commit: commits[1], from: join(mnt, 'commits', commits[1]!), to: co, made: true, recordUpdated: true }],
      dangling: [],
    });
    expect(mountpoints().has(mnt)).toBe(false);
    expect(readlinkSync(link)).toBe(co);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2\n');
    const st = JSON.parse((await cli('status', '--json')).stdout) as { linkOk: boolean; problem: string | null; active: { target: string } };
    expect(st).toMatchObject({ linkOk: true, problem: null, active: { target: co } });

    // Again, in text: it says what it did.
    await mountRepo(repo, mnt);
    expect((await cli('switch', '1')).code).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[0]!));
    const text = await cli('umount', mnt);
    expect(text.stdout).toContain(`re-pointed ${link} (profile system) off the view, at the checkout ${join(repo, 'checkouts', commits[0]!)}\n`);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1\n');

    // --force: the link stays in the view and dangles; umount warns, status says why and how to recover.
    await mountRepo(repo, mnt);
    expect((await cli('switch', '2')).code).toBe(0);
    const forced = await cli('umount', mnt, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`warning: ${link} (profile system) points into ${mnt} and dangles once it is unmounted; run: trove mount ${mnt}, or trove switch 2\n`);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));
    expect(() => readdirSync(link)).toThrow(/ENOENT/);
    const status = await cli('status');
    const warnings = status.stdout.split('\n').filter((l) => l.startsWith('warning'));
    expect(warnings).toEqual([`warning     the view at ${mnt} is not mounted (daemon gone); run: trove mount ${mnt}, or trove switch 2 to use a checkout`]);

    // Mounting again brings the link back, and says so.
    const again = await cli('mount', mnt);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${link} (profile system) points into this view and resolves again`);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2\n');
    expect(JSON.parse((await cli('status', '--json')).stdout).problem).toBeNull();
    expect((await cli('umount', mnt)).code).toBe(0);
    expect(readlinkSync(link)).toBe(co);
  });

  it('a crashed daemon: status says how to recover in one line, switch and rollback move the link to a checkout; a stale record with a live pid is no mount', async () => {
    const pid = await mountRepo(repo, mnt);
    const rec = JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')) as MountRecord;
    expect((await cli('switch', '2')).code).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));
    process.kill(pid, 'SIGKILL');
    expect(await until(() => !alive(pid))).toBe(true);
    // (A stat may still succeed from the kernel's attribute cache; a listing reaches the daemon.)
    const dead = () => {
      try {
        readdirSync(link);
        return false;
      } catch {
        return true;
      }
    };
    expect(await until(dead)).toBe(true);

    const st = JSON.parse((await cli('status', '--json')).stdout) as { linkOk: boolean; problem: string; linkStatus: { state: string; mountpoint: string } };
    expect(st.linkOk).toBe(false);
    expect(st.linkStatus).toMatchObject({ state: 'unmounted', mountpoint: mnt });
    expect(st.problem).toBe(`the view at ${mnt} is not mounted (daemon gone); run: trove mount ${mnt}, or trove switch 2 to use a checkout`);

    // The dead mount is still in the mount table, and the record's pid now names a live process
    // (this one): still no mount, by the start time, or (a record without one) by the dead mount.
    expect(mountpoints().has(mnt)).toBe(true);
    await writeMount(repo, { ...rec, pid: process.pid, started: processStartTime(process.pid) });
    expect(await mountProblem({ ...rec, pid: process.pid, started: processStartTime(process.pid) })).toMatch(/does not answer \((ENOTCONN|ECONNABORTED)\)/);
    expect(await readMount(repo)).toBeUndefined();
    await writeMount(repo, { mountpoint: mnt, pid: process.pid });
    expect(await readMount(repo)).toBeUndefined();

    // rollback (and switch) find the link dead, point it at a checkout and say so.
    const back = await cli('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`note: the view at ${mnt} is not mounted (daemon gone), so ${link} now points at a checkout`);
    expect(readlinkSync(link)).toBe(join(repo, 'checkouts', commits[0]!));
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1\n');
    expect(JSON.parse((await cli('status', '--json')).stdout).problem).toBeNull();
    const sw = await cli('switch', '2', '--json');
    expect(JSON.parse(sw.stdout)).toMatchObject({ via: 'checkout', target: join(repo, 'checkouts', commits[1]!), notes: [] });

    // umount cleans the dead mount, and signals no process (the record names this one).
    const um = await cli('umount', mnt);
    expect(um.code, um.stderr).toBe(0);
    expect(um.stdout).toMatch(/daemon had died/);
    expect(um.stdout).not.toMatch(/stopped daemon/);
    expect(mountpoints().has(mnt)).toBe(false);
    expect(existsSync(join(repo, 'mount.json'))).toBe(false);
  });

  it('a link refused after the record was written (in a read-only place) puts the old record back', async () => {
    await mountRepo(repo, mnt);
    const before = JSON.parse((await cli('status', '--json')).stdout).active as { commit: string; link: string };
    const inView = join(mnt, 'commits', commits[0]!, 'etc', 'ro');
    const r = await cli('switch', '1', '--link', inView);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/EROFS|read-only/);
    expect(JSON.parse((await cli('status', '--json')).stdout).active).toMatchObject(before);
    expect((await cli('umount', mnt)).code).toBe(0);
  });

  it('umount moves a bisect session off the view too: its link, the record, and where reset points the link back', async () => {
    await mountRepo(repo, mnt);
    expect((await cli('switch', '1')).code).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[0]!));
    // Good 1, bad 2: generation 2 is the first bad one at once, and left at the link.
    const start = await cli('bisect', 'start', '--good', '1');
    expect(start.code, start.stderr).toBe(0);
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));

    const um = await cli('umount', mnt, '--json');
    expect(um.code, um.stderr).toBe(0);
    const co = (i: number) => join(repo, 'checkouts', commits[i]!);
    // The link shows the candidate, not the record's commit: both move to checkouts.
    expect(JSON.parse(um.stdout).repointed).toMatchObject([{ link, commit: commits[1], to: co(1), recordUpdated: true }]);
    expect(readlinkSync(link)).toBe(co(1));
    expect(JSON.parse((await cli('status', '--json')).stdout).active).toMatchObject({ commit: commits[0], target: co(0) });
    expect(JSON.parse(readFileSync(join(repo, 'bisect.json'), 'utf8')).before).toBe(co(0));

    const reset = await cli('bisect', 'reset');
    expect(reset.code, reset.stderr).toBe(0);
    expect(readlinkSync(link)).toBe(co(0));
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1\n');
    expect(JSON.parse((await cli('status', '--json')).stdout)).toMatchObject({ linkOk: true, problem: null });
  });
});
