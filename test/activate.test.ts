import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import { activate, activationTarget, chooseLink, swapLink } from '../src/system/activation/activate.js';
import { status } from '../src/system/activation/status.js';
import { systemRoots } from '../src/system/roots.js';
import { gc } from '../src/repo/gc.js';
import { readCommit } from '../src/repo/objects.js';
import { readActive, writeActive } from '../src/system/profiles.js';
import { mountProblem, readMount, writeMount } from '../src/system/mounts.js';
import { troveIn } from './helpers/cli.js';
import { history, repoWithGenerations } from './helpers/fixtures.js';

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
    // One record, one file: profiles/<P>/active holds all of it.
    expect(JSON.parse(readFileSync(join(dir, 'repo', 'profiles', 'system', 'active'), 'utf8'))).toMatchObject({
      commit: commits[2],
      generation: 3,
      link,
      target: join(dir, 'repo', 'checkouts', commits[2]!),
    });
    expect(existsSync(join(dir, 'repo', 'activations'))).toBe(false);

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

    // A switch to a checkout that exists reads no object (hard links are not verified either),
    // but the commit must still be in the store.
    const object = join(dir, 'repo', 'objects', commits[1]!.slice(0, 2), commits[1]!.slice(2));
    renameSync(object, `${object}.away`);
    const gone = await cli('switch', '2', '--link', link, '--json');
    expect(JSON.parse(gone.stderr)).toMatchObject({ error: { code: 'E_NOT_FOUND', message: `commit ${commits[1]} is missing from the store (run trove fsck)` } });
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('1');
    renameSync(`${object}.away`, object);

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

    // Rolling back from a commit that is not a generation returns to the commit active before it:
    // generation 2 (switched to by id), not the newest generation.
    expect((await cli('rollback', '--json')).code).toBe(0);
    expect(JSON.parse((await cli('status', '--json')).stdout).active.generation).toBe(2);
    // A profile with no generations at all, active at a ref: a clear message, nothing changes.
    const other = join(dir, 'other');
    expect((await cli('switch', 'pkg/base/amd64', '--profile', 'other', '--link', other)).code).toBe(0);
    const none2 = await cli('rollback', '--profile', 'other');
    expect(none2.code).toBe(3);
    expect(none2.stderr).toMatch(/profile other has no generations to roll back to \(the active commit [0-9a-f]{12} was switched to by ref or id\)/);
    expect(none2.stderr).not.toContain('null');
    expect((await cli('rollback', '--to', '7')).stderr).toContain('profile system has no generation 7');
  });

  it('reuses a checkout; a stale mount.json naming a live but unrelated pid is no mount', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    const first = await activate(repo, commits[0]!, { link });
    expect(first.made).toBe(true);
    expect(first.via).toBe('checkout');
    await activate(repo, commits[1]!, { link });
    const again = await activate(repo, commits[0]!, { link });
    expect(again.made).toBe(false);
    expect(again.previous).toBe(join(dir, 'repo', 'checkouts', commits[1]!));

    // A daemon that died long ago, its pid now someone else's (this test process): nothing is
    // mounted there, so the record is stale and the link goes to a checkout, not into a dead view.
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    await writeMount(repo.path, { mountpoint: mnt, pid: process.pid });
    expect(await readMount(repo.path)).toBeUndefined();
    expect(await mountProblem({ mountpoint: mnt, pid: process.pid })).toBe(`nothing is mounted at ${mnt}`);
    // The same pid with another start time is another process.
    expect(await mountProblem({ mountpoint: mnt, pid: process.pid, started: 1 })).toBe(`its daemon (pid ${process.pid}) is gone`);
    // A mount that is there but is not FUSE (the root filesystem) is no view either.
    expect(await mountProblem({ mountpoint: '/', pid: process.pid })).toMatch(/^\/ is a \S+ mount, not a trove view$/);
    const stale = await activate(repo, commits[1]!, { link });
    expect(stale.via).toBe('checkout');
    expect(readlinkSync(link)).toBe(join(dir, 'repo', 'checkouts', commits[1]!));
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2');
    expect((await readActive(repo, 'system'))?.target).toBe(join(dir, 'repo', 'checkouts', commits[1]!));
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

  it('writes the record before the link: whatever a crash leaves, the record names the link and gc keeps what the link shows', async () => {
    const { dir, repo } = await repoWithGenerations(1);
    // Commits that are no generation: only the record, or the link, keeps their checkouts.
    const h = await history(repo, 4, 99, 'main');
    const link = join(dir, 'ro');
    const checkoutOf = (id: string) => join(repo.path, 'checkouts', id);
    await activate(repo, h[1]!, { link });

    // A crash of an older trove after the swap, before the record: the link shows h2, the record h1.
    await swapLink(link, (await activationTarget(repo, h[2]!)).target);
    // A crash of this one after the record, before the swap: the record names h3, the link still h2.
    const t3 = (await activationTarget(repo, h[3]!)).target;
    await writeActive(repo, { profile: 'system', commit: h[3]!, generation: null, link, target: t3, time: 1 });
    await repo.refs.delete('main');

    const roots = await systemRoots(repo);
    expect(roots).toContainEqual({ name: 'profiles/system/link', commit: h[2]! });
    const report = await gc(repo, { roots: systemRoots });
    expect(report.checkouts).toEqual([h[1]]);
    expect(readFileSync(join(link, 'value'), 'utf8')).toBe('2\n');
    expect(existsSync(t3)).toBe(true);
    // h2's objects stay too (nothing else reaches h2: h3 is its child, refs are gone).
    expect((await readCommit(repo.store, h[2]!)).subject).toBe('commit 2');

    // The record names the link, so the next switch goes there; status says what is off, in one line.
    expect(await chooseLink(repo, 'system')).toBe(link);
    const st = await status(repo);
    expect(st.link?.state).toBe('elsewhere');
    expect(st.problem).toBe(
      `the link ${link} points at ${checkoutOf(h[2]!)} (commit ${h[2]!.slice(0, 12)}), not at the recorded target ${t3} ` +
        `(a switch was interrupted, or the link was changed by hand); run: trove switch ${h[3]!.slice(0, 16)}`,
    );
    await activate(repo, h[3]!, { link: await chooseLink(repo, 'system') });
    expect((await status(repo)).problem).toBeNull();

    // A missing link, and something else than a symlink there, are named too.
    rmSync(link);
    expect((await status(repo)).problem).toBe(`the link ${link} is missing; run: trove switch ${h[3]!.slice(0, 16)} to make it again`);
    mkdirSync(link);
    expect((await status(repo)).problem).toBe(`${link} is not a symlink; move it away, then run: trove switch ${h[3]!.slice(0, 16)}`);
    rmSync(link, { recursive: true });
    await repo.close();
  });

  it('a link that cannot be made changes no record', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    await activate(repo, commits[0]!, { link });
    // The link's directory cannot be made: a file is in the way. (A link refused after the record
    // was written puts the old record back: test/fuse-activate.test.ts, a link in a read-only view.)
    writeFileSync(join(dir, 'file'), '');
    const err = await activate(repo, commits[1]!, { link: join(dir, 'file', 'ro') }).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toMatch(/^(EEXIST|ENOTDIR)$/);
    expect(await readActive(repo, 'system')).toMatchObject({ commit: commits[0], link });
    await repo.close();
  });

  it('reads the older two-file layout, taking the link from the details even after an interrupted write', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    const pdir = join(repo.path, 'profiles', 'system');
    const details = join(repo.path, 'activations', 'system.json');
    mkdirSync(join(repo.path, 'activations'));
    const old = (commit: string, n: number) => ({ profile: 'system', commit, generation: n, link, target: join(repo.path, 'checkouts', commit), time: 5 });
    // Whole: pointer and details agree.
    writeFileSync(join(pdir, 'active'), `${commits[0]}\n`);
    writeFileSync(details, JSON.stringify(old(commits[0]!, 1)));
    expect(await readActive(repo, 'system')).toEqual(old(commits[0]!, 1));
    // The older writer swapped the link, wrote the details, then the pointer: details newer than
    // the pointer, or no pointer yet (a first switch), are what the link shows.
    writeFileSync(details, JSON.stringify(old(commits[1]!, 2)));
    expect(await readActive(repo, 'system')).toEqual(old(commits[1]!, 2));
    rmSync(join(pdir, 'active'));
    expect(await readActive(repo, 'system')).toEqual(old(commits[1]!, 2));
    expect(await chooseLink(repo, 'system')).toBe(link);
    // A pointer with no details at all: the link is unknown, and switch says so rather than use /ro.
    rmSync(details);
    writeFileSync(join(pdir, 'active'), `${commits[0]}\n`);
    expect(await readActive(repo, 'system')).toMatchObject({ commit: commits[0], link: '' });
    const cli = troveIn(repo.path);
    const sw = await cli('switch', '2');
    expect(sw.code).toBe(2);
    expect(sw.stderr).toContain('names no link');
    expect((await cli('status')).stdout).toContain('the active record names no link');
    // The next switch writes the one-file record.
    expect((await cli('switch', '2', '--link', link)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(pdir, 'active'), 'utf8'))).toMatchObject({ commit: commits[1], link });
    // A record that does not parse is corrupt, not "nothing active".
    writeFileSync(join(pdir, 'active'), '{"commit": "x"}');
    expect(((await readActive(repo, 'system').catch((e: unknown) => e)) as TroveError).code).toBe('E_CORRUPT');
    await repo.close();
  });
});
