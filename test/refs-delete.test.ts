import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Refs } from '../src/refs/refs.js';
import { trove, troveOk } from './helpers/cli.js';
import { objectIds } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

describe('deleting remote-tracking refs frees their objects at gc', () => {
  const base = tmpdir('trove-refs-delete');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const client = join(base, 'client');

  beforeAll(async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'os/main');
    writeFileSync(join(src, 'a'), 'two\n');
    await troveOk(server, 'commit', src, '-r', 'os/next');
    await troveOk(server, 'summary');
    await troveOk(client, 'init');
  });

  it('refs delete takes remotes/R/REF and refs/remotes/R/REF, and removes the directories left empty', async () => {
    await troveOk(client, 'remote', 'add', 'origin', server);
    await troveOk(client, 'pull', 'origin');
    expect(objectIds(client).size).toBeGreaterThan(0);
    expect((await trove(['--repo', client, 'refs', 'delete', 'remotes/origin/os/main'])).code).toBe(0);
    expect(existsSync(join(client, 'refs/remotes/origin/os/main'))).toBe(false);
    expect(existsSync(join(client, 'refs/remotes/origin/os'))).toBe(true);
    const again = await trove(['--repo', client, 'refs', 'delete', 'remotes/origin/os/main']);
    expect(again.code).toBe(3);
    expect(again.stderr).toBe('trove: no such ref: remotes/origin/os/main\n');
    expect((await trove(['--repo', client, 'refs', 'delete', 'refs/remotes/origin/os/next'])).code).toBe(0);
    expect(readdirSync(join(client, 'refs/remotes'))).toEqual([]);
    expect((await trove(['--repo', client, 'refs', 'list', '--remotes'])).stdout).toBe('');
    await troveOk(client, 'gc');
    expect(objectIds(client).size).toBe(0);
    await troveOk(client, 'fsck');
    await troveOk(client, 'remote', 'remove', 'origin');
  });

  it('remote remove keeps the tracking refs; remote remove --prune deletes them, and gc frees their objects', async () => {
    await troveOk(client, 'remote', 'add', 'keep', server);
    await troveOk(client, 'pull', 'keep');
    await troveOk(client, 'remote', 'remove', 'keep');
    expect(readdirSync(join(client, 'refs/remotes/keep/os')).sort()).toEqual(['main', 'next']);
    await troveOk(client, 'gc');
    expect(objectIds(client)).toEqual(objectIds(server));

    await troveOk(client, 'remote', 'add', 'origin', server);
    await troveOk(client, 'pull', 'origin');
    await troveOk(client, 'refs', 'delete', 'remotes/keep/os/main');
    await troveOk(client, 'refs', 'delete', 'remotes/keep/os/next');
    const out = JSON.parse(await troveOk(client, 'remote', 'remove', 'origin', '--prune', '--json'));
    expect(out).toEqual({ remote: 'origin', deleted: ['refs/remotes/origin/os/main', 'refs/remotes/origin/os/next'] });
    expect(readdirSync(join(client, 'refs/remotes'))).toEqual([]);
    expect(await troveOk(client, 'remote', 'list')).toBe('');
    await troveOk(client, 'gc');
    expect(objectIds(client).size).toBe(0);
    const gone = await trove(['--repo', client, 'remote', 'remove', 'origin', '--prune']);
    expect(gone.code).toBe(3);
  });
});

describe('refs set spells refs as revisions read them', () => {
  const base = tmpdir('trove-refs-set');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const client = join(base, 'client');

  it('remotes/R/REF and refs/remotes/R/REF set the remote-tracking ref, never a head of that name', async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    await troveOk(server, 'init');
    const one = JSON.parse(await troveOk(server, 'commit', src, '-r', 'os/main', '--json')).commit;
    writeFileSync(join(src, 'a'), 'two\n');
    const two = JSON.parse(await troveOk(server, 'commit', src, '-r', 'os/main', '--json')).commit;
    await troveOk(server, 'summary');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', server);
    await troveOk(client, 'pull', 'origin');
    expect(await troveOk(client, 'cat', 'remotes/origin/os/main:a')).toBe('two\n');

    expect(JSON.parse(await troveOk(client, 'refs', 'set', 'remotes/origin/os/main', one, '--json'))).toEqual({ ref: 'remotes/origin/os/main', commit: one });
    expect(existsSync(join(client, 'refs/heads/remotes'))).toBe(false);
    expect(await troveOk(client, 'refs', 'list')).toBe('');
    expect(await troveOk(client, 'cat', 'remotes/origin/os/main:a')).toBe('one\n');
    expect(await troveOk(client, 'cat', 'origin:os/main:a')).toBe('one\n');

    await troveOk(client, 'refs', 'set', 'refs/remotes/origin/os/main', two);
    expect(await troveOk(client, 'refs', 'list', '--remotes')).toBe(`${two} remotes/origin/os/main\n`);

    const bad = await trove(['--repo', client, 'refs', 'set', 'remotes/origin', two]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('trove: remotes/origin is no remote-tracking ref: spell it remotes/REMOTE/REF\n');
    expect(readdirSync(join(client, 'refs/remotes/origin'))).toEqual(['os']);
  });
});

describe('deleting the last ref of a directory frees the name', () => {
  const base = tmpdir('trove-refs-dir');
  const src = join(base, 'src');
  const repo = join(base, 'repo');

  it('refs delete deb/hello, then ref deb can be set and committed on', async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'deb/hello');
    await troveOk(repo, 'commit', src, '-r', 'main');
    const dir = await trove(['--repo', repo, 'refs', 'delete', 'deb']);
    expect(dir.code).toBe(3);
    expect(dir.stderr).toBe('trove: no such ref: deb (deb/ is a directory of refs)\n');
    await troveOk(repo, 'refs', 'delete', 'deb/hello');
    expect(existsSync(join(repo, 'refs/heads/deb'))).toBe(false);
    expect(existsSync(join(repo, 'refs/heads'))).toBe(true);
    await troveOk(repo, 'refs', 'set', 'deb', 'main');
    await troveOk(repo, 'refs', 'delete', 'deb');
    await troveOk(repo, 'commit', src, '-r', 'deb');
    expect((await troveOk(repo, 'refs')).split('\n').filter(Boolean).map((l) => l.split(' ')[1])).toEqual(['deb', 'main']);
  });

  it('an empty directory left by an earlier delete does not refuse the ref; one that holds refs still does', async () => {
    mkdirSync(join(repo, 'refs/heads/left'));
    mkdirSync(join(repo, 'refs/heads/behind'));
    await troveOk(repo, 'refs', 'set', 'left', 'main');
    await troveOk(repo, 'commit', src, '-r', 'behind');
    expect((await troveOk(repo, 'refs')).split('\n').filter(Boolean).map((l) => l.split(' ')[1])).toEqual(['behind', 'deb', 'left', 'main']);
    await troveOk(repo, 'refs', 'set', 'full/x', 'main');
    const r = await trove(['--repo', repo, 'refs', 'set', 'full', 'main']);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe('trove: cannot create ref full: full/ is a directory of refs\n');
    expect(await troveOk(repo, 'cat', 'full/x:a')).toBe('one\n');
  });

  it('a local ref named remotes/... is still deleted by its name when no remote-tracking ref has it', async () => {
    await troveOk(repo, 'refs', 'set', 'refs/heads/remotes/x/y', 'main');
    expect(existsSync(join(repo, 'refs/heads/remotes/x/y'))).toBe(true);
    await troveOk(repo, 'refs', 'delete', 'remotes/x/y');
    expect(existsSync(join(repo, 'refs/heads/remotes'))).toBe(false);
  });

  it('a writer creating a ref in the directory that a delete empties at the same moment does not fail', async () => {
    const dir = tmpdir('trove-refs-race');
    const refs = new Refs(join(dir, 'refs'), join(dir, 'tmp'));
    const id = 'ab'.repeat(32); // refs hold any id; no object is read here
    for (let i = 0; i < 200; i++) {
      await refs.write('race/old', id);
      // The delete removes race/ once race/old is gone; the write needs race/ for race/new<i>.
      await Promise.all([refs.delete('race/old'), refs.write(`race/new${i}`, id)]);
      expect(await refs.read(`race/new${i}`)).toBe(id);
      await refs.delete(`race/new${i}`);
    }
    expect(existsSync(join(dir, 'refs/heads/race'))).toBe(false);
  });
});
