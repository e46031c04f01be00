import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import { activate } from '../src/system/activation/activate.js';
import { readActive } from '../src/system/profiles.js';
import { writeMount } from '../src/system/mounts.js';
import { troveIn } from './helpers/cli.js';
import { repoWithGenerations } from './helpers/fixtures.js';

describe('activation', () => {
  it('switch, status and rollback through the CLI', async () => {
    const { dir, repo, commits } = await repoWithGenerations(3);
    await repo.close();
    const link = join(dir, 'ro');
    const cli = troveIn(join(dir, 'repo'));
    const none = JSON.parse((await cli('status', '--json')).stdout) as { active: unknown };
    expect(none.active).toBeNull();
    expect((await cli('rollback', '--link', link)).code).toBe(3);

    const sw = await cli('switch', '3', '--link', link);
    expect(sw.code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    expect(readlinkSync(link)).toBe(join(dir, 'repo', 'checkouts', commits[2]!));
    const st = JSON.parse((await cli('status', '--json')).stdout) as { active: { generation: number; link: string; commit: string }; linkOk: boolean };
    expect(st.active).toMatchObject({ generation: 3, link, commit: commits[2] });
    expect(st.linkOk).toBe(true);
    expect(readFileSync(join(dir, 'repo', 'profiles', 'system', 'active'), 'utf8')).toBe(`${commits[2]}\n`);

    // Rollback uses the recorded link.
    expect((await cli('rollback')).code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2');
    expect((await cli('rollback', '--to', '3')).code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    expect((await cli('rollback')).code).toBe(0);
    expect((await cli('rollback')).code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1');
    const oldest = await cli('rollback');
    expect(oldest.code).toBe(3);
    expect(oldest.stderr).toContain('generation 1 is the oldest of profile system');
    expect((await cli('status')).stdout).toContain('generation 1,');

    // A ref or commit works too; it is not a generation of the profile.
    const byId = await cli('switch', commits[1]!.slice(0, 10), '--link', link, '--json');
    expect(JSON.parse(byId.stdout).generation).toBe(2);
    expect((await cli('switch', 'pkg/base/amd64', '--link', link)).code).toBe(0);
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');
    // Generation numbers the profile does not have, short or long, say so.
    for (const n of ['9', '0', '100000']) {
      const r = await cli('switch', n, '--link', link);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`profile system has no generation ${n} (it has 1, 2, 3)`);
    }
    expect((await cli('switch', '100000', '--link', link)).stderr).toContain('and no commit id starts with 100000');
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('3');

    // Rolling back from a commit that is not a generation goes to the newest one.
    expect((await cli('rollback', '--json')).code).toBe(0);
    expect(JSON.parse((await cli('status', '--json')).stdout).active.generation).toBe(3);
    // A profile with no generations at all, active at a ref: a clear message, nothing changes.
    const other = join(dir, 'other');
    expect((await cli('switch', 'pkg/base/amd64', '--profile', 'other', '--link', other)).code).toBe(0);
    const none2 = await cli('rollback', '--profile', 'other');
    expect(none2.code).toBe(3);
    expect(none2.stderr).toMatch(/profile other has no generations to roll back to \(the active commit [0-9a-f]{12} was switched to by ref or id\)/);
    expect(none2.stderr).not.toContain('null');
    expect((await cli('rollback', '--to', '7')).stderr).toContain('profile system has no generation 7');
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
});
