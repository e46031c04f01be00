import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys, mergeSignature, parsePrivateKey, parsePublicKey, signBytes, verifySignature } from '../src/remote/sign.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { runTrove, tmpdir } from './helpers/tmp.js';

function trove(repo: string, ...args: string[]): string {
  const r = runTrove(['--repo', repo, ...args]);
  if (r.code !== 0) throw new Error(`trove ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function objectCount(repo: string): number {
  let n = 0;
  for (const shard of readdirSync(join(repo, 'objects'))) n += readdirSync(join(repo, 'objects', shard)).length;
  return n;
}

const head = (repo: string, name: string) => readFileSync(join(repo, 'refs', name), 'utf8').trim();

describe('signed remotes', () => {
  const base = tmpdir('trove-sign');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const key = join(base, 'key.pem');
  const other = join(base, 'other.pem');
  let nginx: Nginx;

  /** Pull expected to be refused: exit 5, a message, and the client exactly as it was. */
  function refused(pattern: RegExp): void {
    const objects = objectCount(client);
    const ref = readdirSync(join(client, 'refs')).includes('remotes') ? head(client, 'remotes/origin/main') : undefined;
    const r = runTrove(['--repo', client, 'pull', 'origin', 'main', '--retries', '0']);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(5);
    expect(objectCount(client)).toBe(objects);
    if (ref) expect(head(client, 'remotes/origin/main')).toBe(ref);
  }

  beforeAll(async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    trove(server, 'init');
    trove(server, 'commit', src, '-r', 'main');
    trove(server, 'keygen', '--out', key);
    trove(server, 'keygen', '--out', other);
    trove(server, 'sign', 'main', '--key', key);
    trove(server, 'summary', '--key', key);
    nginx = await startNginx(server);
    trove(client, 'init');
    trove(client, 'remote', 'add', 'origin', nginx.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => nginx?.stop());

  it('keygen writes a private key only its owner can read, and never overwrites one', () => {
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    const again = runTrove(['keygen', '--out', key]);
    expect(again.code).toBe(4);
  });

  it('pulls a signed commit through a signed summary and keeps the signature to serve it again', () => {
    trove(client, 'pull', 'origin', 'main');
    const id = head(server, 'heads/main');
    expect(head(client, 'remotes/origin/main')).toBe(id);
    expect(readFileSync(join(client, 'signatures', `${id}.sig`), 'utf8')).toBe(readFileSync(join(server, 'signatures', `${id}.sig`), 'utf8'));
    expect(runTrove(['--repo', client, 'remote', 'list']).stdout).toMatch(/origin\t.*\tkey [0-9a-f]{16}/);
  });

  it('refuses an unsigned summary', () => {
    trove(server, 'summary');
    refused(/summary of remote origin is not signed/);
  });

  it('refuses a summary signed by another key', () => {
    trove(server, 'summary', '--key', other);
    refused(/summary of remote origin has no signature by key/);
  });

  it('refuses a summary changed after it was signed', () => {
    trove(server, 'summary', '--key', key);
    const path = join(server, 'summary');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"timestamp":', '"timestamp":1'));
    refused(/summary of remote origin has a bad signature/);
  });

  it('refuses an unsigned commit, storing nothing of it', () => {
    writeFileSync(join(src, 'a'), 'two\n');
    trove(server, 'commit', src, '-r', 'main');
    trove(server, 'summary', '--key', key);
    refused(/commit [0-9a-f]{64} of remote origin is not signed/);
  });

  it('refuses a commit signed by another key, then takes it once signed by the right one', () => {
    trove(server, 'sign', 'main', '--key', other);
    refused(/commit .* has no signature by key/);
    trove(server, 'sign', 'main', '--key', key);
    const r = runTrove(['--repo', client, 'pull', 'origin', 'main']);
    expect(r.stderr).toBe('');
    expect(head(client, 'remotes/origin/main')).toBe(head(server, 'heads/main'));
    // Both keys' lines are kept in the served signature file.
    expect(readFileSync(join(server, 'signatures', `${head(server, 'heads/main')}.sig`), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('refuses a forged commit signature file', () => {
    writeFileSync(join(src, 'a'), 'three\n');
    trove(server, 'commit', src, '-r', 'main');
    trove(server, 'sign', 'main~1', '--key', key);
    const id = head(server, 'heads/main');
    const prev = readFileSync(join(server, 'signatures', `${readdirSync(join(server, 'signatures')).find((n) => !n.startsWith(id))}`), 'utf8');
    writeFileSync(join(server, 'signatures', `${id}.sig`), prev); // a real signature, of another commit
    trove(server, 'summary', '--key', key);
    refused(/commit .* has a bad signature/);
    rmSync(join(server, 'signatures', `${id}.sig`));
  });

  it('refuses a signed remote with no summary at all, without reading its refs/heads files', () => {
    const path = join(server, 'summary');
    const saved = readFileSync(path);
    rmSync(path);
    try {
      nginx.clearLog();
      refused(/remote origin has no summary, so there is no signed summary to verify/);
      expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary']);
    } finally {
      writeFileSync(path, saved);
    }
  });
});

describe('signature primitives', () => {
  it('verifies only the signed bytes with the signing key', () => {
    const a = generateKeys();
    const b = generateKeys();
    const line = signBytes(parsePrivateKey(a.privatePem), Buffer.from('data'));
    const text = mergeSignature(undefined, line);
    expect(() => verifySignature(text, parsePublicKey(a.publicPem), Buffer.from('data'), 'x')).not.toThrow();
    expect(() => verifySignature(text, parsePublicKey(a.publicPem), Buffer.from('data!'), 'x')).toThrow(/bad signature/);
    expect(() => verifySignature(text, parsePublicKey(b.publicPem), Buffer.from('data'), 'x')).toThrow(/no signature by key/);
    expect(() => verifySignature(undefined, parsePublicKey(a.publicPem), Buffer.from('data'), 'x')).toThrow(/not signed/);
    expect(() => parsePublicKey('junk')).toThrow();
  });
});

describe('mirroring a signed remote', () => {
  const base = tmpdir('trove-signmirror');
  const src = join(base, 'src');
  const origin = join(base, 'origin');
  const mirror = join(base, 'mirror');
  const key = join(base, 'key.pem');
  let upstream: Nginx;
  let served: Nginx;

  const files = (repo: string, dir: string) => readdirSync(join(repo, dir)).sort();

  beforeAll(async () => {
    mkdirSync(join(src, 'd'), { recursive: true });
    for (let i = 0; i < 10; i++) writeFileSync(join(src, 'd', `f${i}`), `file ${i}\n`.repeat(100));
    trove(origin, 'init');
    trove(origin, 'commit', src, '-r', 'main', '-m', 'one');
    writeFileSync(join(src, 'd', 'f0'), 'changed\n');
    trove(origin, 'commit', src, '-r', 'main', '-m', 'two');
    trove(origin, 'keygen', '--out', key);
    trove(origin, 'sign', 'main', '--key', key);
    // A pack a first pull uses, and one it does not (the mirror must fetch it to serve the summary).
    trove(origin, 'delta', '--from-empty', 'main');
    trove(origin, 'delta', 'main~1', 'main');
    trove(origin, 'summary', '--key', key);
    upstream = await startNginx(origin);
    trove(mirror, 'init');
    trove(mirror, 'remote', 'add', 'up', upstream.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => {
    await served?.stop();
    await upstream?.stop();
  });

  it('keeps the upstream summary, summary.sig and packs byte for byte, and serves them to a client with the same key', async () => {
    const r = JSON.parse(trove(mirror, 'pull', '--mirror', 'up', '--json'));
    expect(r.deltas.used).toHaveLength(1);
    expect(r.mirror.summary).toBe(true);
    expect(r.mirror.deltas).toHaveLength(1); // the FROM-TO pack; the from-empty one came with the pull
    for (const f of ['summary', 'summary.sig']) expect(readFileSync(join(mirror, f))).toEqual(readFileSync(join(origin, f)));
    expect(files(mirror, 'deltas')).toEqual(files(origin, 'deltas'));
    expect(files(mirror, 'deltas')).toHaveLength(2);
    for (const f of files(origin, 'deltas')) expect(readFileSync(join(mirror, 'deltas', f))).toEqual(readFileSync(join(origin, 'deltas', f)));
    trove(mirror, 'fsck');

    served = await startNginx(mirror);
    const client = join(base, 'client');
    trove(client, 'init');
    trove(client, 'remote', 'add', 'm', served.url, '--sign-key', `${key}.pub`);
    const c = JSON.parse(trove(client, 'pull', 'm', 'main', '--json'));
    expect(c.deltas.used).toEqual([`empty-${head(origin, 'heads/main')}`]);
    expect(head(client, 'remotes/m/main')).toBe(head(origin, 'heads/main'));
    expect(served.accessLog().map((l) => l.path)).toContain('/summary.sig');
    trove(client, 'fsck');
  });

  it('a pull again fetches none of the packs it already keeps', () => {
    upstream.clearLog();
    const r = JSON.parse(trove(mirror, 'pull', '--mirror', 'up', '--json'));
    expect(r.mirror).toEqual({ summary: true, deltas: [] });
    expect(upstream.accessLog().filter((l) => l.path.startsWith('/deltas/'))).toEqual([]);
  });

  it('a client refuses the mirror summary once it is changed, and stores nothing', () => {
    const client = join(base, 'client2');
    trove(client, 'init');
    trove(client, 'remote', 'add', 'm', served.url, '--sign-key', `${key}.pub`);
    const path = join(mirror, 'summary');
    const good = readFileSync(path);
    writeFileSync(path, good.toString('utf8').replace('"timestamp":', '"timestamp":1'));
    try {
      const r = runTrove(['--repo', client, 'pull', 'm', 'main', '--retries', '0']);
      expect(r.stderr).toMatch(/summary of remote m has a bad signature/);
      expect(r.code).toBe(5);
      expect(objectCount(client)).toBe(0);
      expect(readdirSync(join(client, 'refs'))).not.toContain('remotes');
    } finally {
      writeFileSync(path, good);
    }
  });

  it('does not keep the upstream summary when only some of its refs are pulled', () => {
    trove(origin, 'commit', src, '-r', 'other', '-m', 'other');
    trove(origin, 'sign', 'other', '--key', key);
    trove(origin, 'summary', '--key', key);
    const partial = join(base, 'partial');
    trove(partial, 'init');
    trove(partial, 'remote', 'add', 'up', upstream.url, '--sign-key', `${key}.pub`);
    const r = runTrove(['--repo', partial, 'pull', '--mirror', 'up', 'main', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/upstream summary is not kept: refs other were not pulled/);
    expect(JSON.parse(r.stdout).mirror.summary).toBe(false);
    expect(readdirSync(partial)).not.toContain('summary');
    expect(readdirSync(partial)).not.toContain('summary.sig');
  });
});
