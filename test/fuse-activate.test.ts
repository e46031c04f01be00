import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashBytes } from '../src/util/hash.js';
import { alive, mountpoints, mountRepo, skipFuse, until } from './helpers/fuse.js';
import { troveIn } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

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
      const r = JSON.parse(gen.stdout) as { number: number; commit: string };
      expect(r.number).toBe(n);
      commits.push(r.commit);
    }
  });

  it('mount, switch into it, keep an open file across a second switch, roll back, umount', async () => {
    const pid = await mountRepo(repo, mnt);
    expect(JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8'))).toEqual({ mountpoint: mnt, pid });

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
});
