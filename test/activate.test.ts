import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import { activate } from '../src/system/activation/activate.js';
import { buildGeneration } from '../src/system/generations/build.js';
import { addPackage } from '../src/system/packages/add.js';
import { readActive } from '../src/system/profiles.js';
import { writeMount } from '../src/system/mounts.js';
import { Repo } from '../src/repo/repo.js';
import { runTrove, tmpdir } from './helpers/tmp.js';

/** A repository with generations 1..n of profile `system`, each holding `etc/id` = its number. */
async function repoWithGenerations(n: number): Promise<{ dir: string; repo: Repo; commits: string[] }> {
  const dir = tmpdir();
  const repo = await Repo.init(join(dir, 'repo'));
  const commits: string[] = [];
  for (let i = 1; i <= n; i++) {
    const src = join(dir, `src${i}`);
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'id'), String(i));
    await addPackage(repo, src, { name: 'base', arch: 'amd64', version: `${i}.0` });
    commits.push((await buildGeneration(repo, { specs: [{ name: 'base', priority: 0 }] })).commit);
  }
  return { dir, repo, commits };
}

const READER = `
const fs = require('node:fs');
const [link, stop] = process.argv.slice(1);
let ok = 0, failed = 0;
const seen = {};
while (!fs.existsSync(stop)) {
  try {
    fs.statSync(link + '/etc');
    const v = fs.readFileSync(link + '/etc/id', 'utf8');
    seen[v] = (seen[v] || 0) + 1;
    ok++;
  } catch (err) {
    failed++;
  }
}
process.stdout.write(JSON.stringify({ ok, failed, seen }));
`;

describe('activation', () => {
  it('switch, status and rollback through the CLI', async () => {
    const { dir, repo, commits } = await repoWithGenerations(3);
    await repo.close();
    const link = join(dir, 'ro');
    const trove = (...args: string[]) => runTrove(['--repo', join(dir, 'repo'), ...args]);
    const none = JSON.parse(trove('status', '--json').stdout) as { active: unknown };
    expect(none.active).toBeNull();
    expect(trove('rollback', '--link', link).code).toBe(3);

    const sw = trove('switch', '3', '--link', link);
    expect(sw.code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    expect(readlinkSync(link)).toBe(join(dir, 'repo', 'checkouts', commits[2]!));
    const st = JSON.parse(trove('status', '--json').stdout) as { active: { generation: number; link: string; commit: string }; linkOk: boolean };
    expect(st.active).toMatchObject({ generation: 3, link, commit: commits[2] });
    expect(st.linkOk).toBe(true);
    expect(readFileSync(join(dir, 'repo', 'profiles', 'system', 'active'), 'utf8')).toBe(`${commits[2]}\n`);

    // Rollback uses the recorded link.
    expect(trove('rollback').code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2');
    expect(trove('rollback', '--to', '3').code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    expect(trove('rollback').code).toBe(0);
    expect(trove('rollback').code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1');
    const oldest = trove('rollback');
    expect(oldest.code).toBe(3);
    expect(oldest.stderr).toContain('generation 1 is the oldest of profile system');
    expect(trove('status').stdout).toContain('generation 1,');

    // A ref or commit works too; it is not a generation of the profile.
    const byId = trove('switch', commits[1]!.slice(0, 10), '--link', link, '--json');
    expect(JSON.parse(byId.stdout).generation).toBe(2);
    expect(trove('switch', 'pkg/base/amd64', '--link', link).code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    // Generation numbers the profile does not have, short or long, say so.
    for (const n of ['9', '0', '100000']) {
      const r = trove('switch', n, '--link', link);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`profile system has no generation ${n} (it has 1, 2, 3)`);
    }
    expect(trove('switch', '100000', '--link', link).stderr).toContain('and no commit id starts with 100000');
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');

    // Rolling back from a commit that is not a generation goes to the newest one.
    expect(trove('rollback', '--json').code).toBe(0);
    expect(JSON.parse(trove('status', '--json').stdout).active.generation).toBe(3);
    // A profile with no generations at all, active at a ref: a clear message, nothing changes.
    const other = join(dir, 'other');
    expect(trove('switch', 'pkg/base/amd64', '--profile', 'other', '--link', other).code).toBe(0);
    const none2 = trove('rollback', '--profile', 'other');
    expect(none2.code).toBe(3);
    expect(none2.stderr).toMatch(/profile other has no generations to roll back to \(the active commit [0-9a-f]{12} was switched to by ref or id\)/);
    expect(none2.stderr).not.toContain('null');
    expect(trove('rollback', '--to', '7').stderr).toContain('profile system has no generation 7');
  });

  it('reuses a checkout, and targets the FUSE view when one is mounted', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    const first = await activate(repo, commits[0]!, { link });
    expect(first.made).toBe(true);
    expect(first.via).toBe('checkout');
    await activate(repo, commits[1]!, { link });
    const again = await activate(repo, commits[0]!, { link });
    expect(again.made).toBe(false);
    expect(again.previous).toBe(join(dir, 'repo', 'checkouts', commits[1]!));

    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    await writeMount(repo.path, { mountpoint: mnt, pid: process.pid });
    const mounted = await activate(repo, commits[1]!, { link });
    expect(mounted.via).toBe('mount');
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', commits[1]!));
    expect((await readActive(repo, 'system'))?.target).toBe(join(mnt, 'commits', commits[1]!));
    await repo.close();
  });

  it('refuses to replace anything but a symlink', async () => {
    const { dir, repo, commits } = await repoWithGenerations(1);
    const notALink = join(dir, 'real-dir');
    mkdirSync(notALink);
    const err = await activate(repo, commits[0]!, { link: notALink }).catch((e: unknown) => e);
    expect((err as TroveError).code).toBe('E_EXISTS');
    expect(existsSync(join(notALink, 'etc'))).toBe(false);
    await repo.close();
  });

  it('1,000 swaps under readers in another process: no lookup ever fails', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    await activate(repo, commits[0]!, { link });
    await activate(repo, commits[1]!, { link });
    const stop = join(dir, 'stop');
    const reader = spawn(process.execPath, ['-e', READER, link, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const done = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 1000; i++) await activate(repo, commits[i % 2]!, { link });
    writeFileSync(stop, '');
    await done;
    const result = JSON.parse(out) as { ok: number; failed: number; seen: Record<string, number> };
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(1000);
    expect(Object.keys(result.seen).sort()).toEqual(['1', '2']);
    await repo.close();
  });
});
