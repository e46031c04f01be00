import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseUrl } from '../src/remote/config.js';
import { parseSummary } from '../src/remote/summary.js';
import { runTrove, tmpdir } from './helpers/tmp.js';

describe('trove remote', () => {
  it('adds, lists and removes remotes in <repo>/config, keeping the rest of it', () => {
    const repo = join(tmpdir('trove-remotes'), 'repo');
    expect(runTrove(['--repo', repo, 'init']).code).toBe(0);
    expect(runTrove(['--repo', repo, 'remote', 'add', 'web', 'http://example.org/repo']).code).toBe(0);
    expect(runTrove(['--repo', repo, 'remote', 'add', 'disk', 'some/dir'], { cwd: '/tmp' }).code).toBe(0);
    const config = JSON.parse(readFileSync(join(repo, 'config'), 'utf8'));
    expect(config.format).toBe('trove-1');
    expect(config.remotes).toEqual({ web: { url: 'http://example.org/repo/' }, disk: { url: '/tmp/some/dir' } });
    const list = JSON.parse(runTrove(['--repo', repo, 'remote', 'list', '--json']).stdout);
    expect(list).toEqual([
      { name: 'disk', url: '/tmp/some/dir', keyId: null },
      { name: 'web', url: 'http://example.org/repo/', keyId: null },
    ]);
    expect(runTrove(['--repo', repo, 'remote', 'add', 'web', 'http://other/']).code).toBe(4);
    expect(runTrove(['--repo', repo, 'remote', 'add', '../x', 'http://other/']).code).toBe(6);
    expect(runTrove(['--repo', repo, 'remote', 'add', 'x', 'ftp://other/']).code).toBe(2);
    expect(runTrove(['--repo', repo, 'remote', 'add', 'x', 'http://h/', '--sign-key', join(repo, 'config')]).code).toBe(2);
    expect(runTrove(['--repo', repo, 'remote', 'remove', 'web']).code).toBe(0);
    expect(runTrove(['--repo', repo, 'remote', 'remove', 'web']).code).toBe(3);
    expect(runTrove(['--repo', repo, 'pull', 'web']).code).toBe(3);
    expect(Object.keys(JSON.parse(readFileSync(join(repo, 'config'), 'utf8')).remotes)).toEqual(['disk']);
  });

  it('normalises locations', () => {
    expect(normaliseUrl('HTTPS://Example.org:8443/a/b')).toBe('https://example.org:8443/a/b/');
    expect(normaliseUrl('file:///srv/repo')).toBe('/srv/repo');
    expect(normaliseUrl('rel', '/base')).toBe('/base/rel');
    expect(() => normaliseUrl('http://h/x?y=1')).toThrow(/query/);
  });
});

describe('trove summary', () => {
  it('lists heads and delta packs, and is what a client parses', () => {
    const base = tmpdir('trove-summary');
    const repo = join(base, 'repo');
    runTrove(['--repo', repo, 'init']);
    expect(runTrove(['--repo', repo, 'commit', join(process.cwd(), 'demo', 'tree'), '-r', 'os/a']).code).toBe(0);
    expect(runTrove(['--repo', repo, 'delta', '--from-empty', 'os/a']).code).toBe(0);
    const out = JSON.parse(runTrove(['--repo', repo, 'summary', '--json']).stdout);
    const onDisk = parseSummary(readFileSync(join(repo, 'summary')));
    expect(onDisk.refs).toEqual(out.refs);
    expect(Object.keys(onDisk.refs)).toEqual(['os/a']);
    expect(onDisk.deltas).toHaveLength(1);
    expect(onDisk.deltas[0]).toMatchObject({ from: null, to: onDisk.refs['os/a'] });
    expect(runTrove(['--repo', repo, 'delta', 'os/a']).code).toBe(2);
  });
});
