import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseUrl } from '../src/remote/config.js';
import { parseSummary } from '../src/remote/summary.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

describe('trove remote', () => {
  it('adds, lists and removes remotes in <repo>/config, keeping the rest of it', async () => {
    const base = tmpdir('trove-remotes');
    const repo = join(base, 'repo');
    const disk = join(base, 'some/dir');
    mkdirSync(disk, { recursive: true });
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'remote', 'add', 'web', 'http://example.org/repo'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'remote', 'add', 'disk', 'some/dir'], { cwd: base })).code).toBe(0);
    const config = JSON.parse(readFileSync(join(repo, 'config'), 'utf8'));
    expect(config.format).toBe('trove-1');
    expect(config.remotes).toEqual({ web: { url: 'http://example.org/repo/' }, disk: { url: disk } });
    const list = JSON.parse((await trove(['--repo', repo, 'remote', 'list', '--json'])).stdout);
    expect(list).toEqual([
      { remote: 'disk', url: disk, keyId: null },
      { remote: 'web', url: 'http://example.org/repo/', keyId: null },
    ]);
    expect((await trove(['--repo', repo, 'remote', 'add', 'web', 'http://other/'])).code).toBe(4);
    expect((await trove(['--repo', repo, 'remote', 'add', '../x', 'http://other/'])).code).toBe(6);
    expect((await trove(['--repo', repo, 'remote', 'add', 'x', 'ftp://other/'])).code).toBe(2);
    expect((await trove(['--repo', repo, 'remote', 'add', 'x', 'http://h/', '--sign-key', join(repo, 'config')])).code).toBe(2);
    expect((await trove(['--repo', repo, 'remote', 'remove', 'web'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'remote', 'remove', 'web'])).code).toBe(3);
    expect((await trove(['--repo', repo, 'pull', 'web'])).code).toBe(3);
    expect(Object.keys(JSON.parse(readFileSync(join(repo, 'config'), 'utf8')).remotes)).toEqual(['disk']);
  });

  it('normalises locations', () => {
    expect(normaliseUrl('HTTPS://Example.org:8443/a/b')).toBe('https://example.org:8443/a/b/');
    expect(normaliseUrl('file:///srv/repo')).toBe('/srv/repo');
    expect(normaliseUrl('rel', '/base')).toBe('/base/rel');
    expect(normaliseUrl('./a:b', '/base')).toBe('/base/a:b');
    expect(() => normaliseUrl('http://h/x?y=1')).toThrow(/query/);
  });

  it('refuses what only looks like a location: an unknown scheme, a typo, a broken http URL', () => {
    for (const bad of ['htp:/x', 'ftp://h/x', 'git+ssh://h/x', 'mailto:a@b', 'C:x']) {
      expect(() => normaliseUrl(bad, '/base'), bad).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(/unsupported remote URL scheme/) }));
    }
    for (const bad of ['http:/x', 'https:x', 'http://']) {
      expect(() => normaliseUrl(bad, '/base'), bad).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(/not a valid URL/) }));
    }
    expect(() => normaliseUrl('file://otherhost/srv/repo')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('remote add refuses a bad scheme or a missing directory and leaves the config alone', async () => {
    const base = tmpdir('trove-remotes-bad');
    const repo = join(base, 'repo');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    const before = readFileSync(join(repo, 'config'), 'utf8');
    const typo = await trove(['--repo', repo, 'remote', 'add', 'x', 'htp:/x'], { cwd: base });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unsupported remote URL scheme htp:/);
    const missing = await trove(['--repo', repo, 'remote', 'add', 'x', join(base, 'nonexistent/dir')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`remote location ${join(base, 'nonexistent/dir')} does not exist`);
    const missingUrl = await trove(['--repo', repo, 'remote', 'add', 'x', `file://${join(base, 'nope')}`]);
    expect(missingUrl.code).toBe(3);
    expect(readFileSync(join(repo, 'config'), 'utf8')).toBe(before);
  });

  it('pull from a local directory that is not a trove repository says so', async () => {
    const base = tmpdir('trove-remotes-notrepo');
    const repo = join(base, 'repo');
    const plain = join(base, 'plain');
    mkdirSync(join(plain, 'refs'), { recursive: true }); // but no objects/
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'remote', 'add', 'plain', plain])).code).toBe(0);
    const r = await trove(['--repo', repo, 'pull', 'plain']);
    expect(r.code).toBe(9);
    expect(r.stderr).toContain(`not a trove repository: ${plain}`);
    // A directory removed after it was added reads the same.
    rmSync(plain, { recursive: true });
    const gone = await trove(['--repo', repo, 'pull', 'plain', 'main']);
    expect(gone.code).toBe(9);
    expect(gone.stderr).toContain(`not a trove repository: ${plain}`);
    expect((await trove(['--repo', repo, 'refs', '--remotes'])).stdout).toBe('');
  });
});

describe('trove summary', () => {
  it('lists heads and delta packs, and is what a client parses', async () => {
    const base = tmpdir('trove-summary');
    const repo = join(base, 'repo');
    await trove(['--repo', repo, 'init']);
    expect((await trove(['--repo', repo, 'commit', join(process.cwd(), 'demo', 'tree'), '-r', 'os/a'])).code).toBe(0);
    expect((await trove(['--repo', repo, 'delta', '--from-empty', 'os/a'])).code).toBe(0);
    const out = JSON.parse((await trove(['--repo', repo, 'summary', '--json'])).stdout);
    const onDisk = parseSummary(readFileSync(join(repo, 'summary')));
    expect(onDisk.refs).toEqual(out.refs);
    expect(Object.keys(onDisk.refs)).toEqual(['os/a']);
    expect(onDisk.deltas).toHaveLength(1);
    expect(onDisk.deltas[0]).toMatchObject({ from: null, to: onDisk.refs['os/a'] });
    expect((await trove(['--repo', repo, 'delta', 'os/a'])).code).toBe(2);
  });
});
