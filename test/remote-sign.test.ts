import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys, mergeSignature, parsePrivateKey, parsePublicKey, signBytes, verifySignature } from '../src/remote/sign.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';

const objectCount = (repo: string): number => objectIds(repo).size;

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
  async function refused(pattern: RegExp): Promise<void> {
    const objects = objectCount(client);
    const ref = readdirSync(join(client, 'refs')).includes('remotes') ? head(client, 'remotes/origin/main') : undefined;
    const r = await trove(['--repo', client, 'pull', 'origin', 'main', '--retries', '0']);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(5);
    expect(objectCount(client)).toBe(objects);
    if (ref) expect(head(client, 'remotes/origin/main')).toBe(ref);
  }

  beforeAll(async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'main');
    await troveOk(server, 'keygen', '--out', key);
    await troveOk(server, 'keygen', '--out', other);
    await troveOk(server, 'sign', 'main', '--key', key);
    await troveOk(server, 'summary', '--key', key);
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => nginx?.stop());

  it('keygen writes a private key only its owner can read, and never overwrites one', async () => {
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    const again = await trove(['keygen', '--out', key]);
    expect(again.code).toBe(4);
  });

  it('pulls a signed commit through a signed summary and keeps the signature to serve it again', async () => {
    await troveOk(client, 'pull', 'origin', 'main');
    const id = head(server, 'heads/main');
    expect(head(client, 'remotes/origin/main')).toBe(id);
    expect(readFileSync(join(client, 'signatures', `${id}.sig`), 'utf8')).toBe(readFileSync(join(server, 'signatures', `${id}.sig`), 'utf8'));
    expect((await trove(['--repo', client, 'remote', 'list'])).stdout).toMatch(/origin\t.*\tkey [0-9a-f]{16}/);
  });

  it('refuses an unsigned summary', async () => {
    await troveOk(server, 'summary');
    await refused(/summary of remote origin is not signed/);
  });

  it('refuses a summary signed by another key', async () => {
    await troveOk(server, 'summary', '--key', other);
    await refused(/summary of remote origin has no signature by key/);
  });

  it('refuses a summary changed after it was signed', async () => {
    await troveOk(server, 'summary', '--key', key);
    const path = join(server, 'summary');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"timestamp":', '"timestamp":1'));
    await refused(/summary of remote origin has a bad signature/);
  });

  it('refuses an unsigned commit, storing nothing of it', async () => {
    writeFileSync(join(src, 'a'), 'two\n');
    await troveOk(server, 'commit', src, '-r', 'main');
    await troveOk(server, 'summary', '--key', key);
    await refused(/commit [0-9a-f]{64} of remote origin is not signed/);
  });

  it('refuses a commit signed by another key, then takes it once signed by the right one', async () => {
    await troveOk(server, 'sign', 'main', '--key', other);
    await refused(/commit .* has no signature by key/);
    await troveOk(server, 'sign', 'main', '--key', key);
    const r = await trove(['--repo', client, 'pull', 'origin', 'main']);
    expect(r.stderr).toBe('');
    expect(head(client, 'remotes/origin/main')).toBe(head(server, 'heads/main'));
    // Both keys' lines are kept in the served signature file.
    expect(readFileSync(join(server, 'signatures', `${head(server, 'heads/main')}.sig`), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('refuses a forged commit signature file', async () => {
    writeFileSync(join(src, 'a'), 'three\n');
    await troveOk(server, 'commit', src, '-r', 'main');
    await troveOk(server, 'sign', 'main~1', '--key', key);
    const id = head(server, 'heads/main');
    const prev = readFileSync(join(server, 'signatures', `${readdirSync(join(server, 'signatures')).find((n) => !n.startsWith(id))}`), 'utf8');
    writeFileSync(join(server, 'signatures', `${id}.sig`), prev); // a real signature, of another commit
    await troveOk(server, 'summary', '--key', key);
    await refused(/commit .* has a bad signature/);
    rmSync(join(server, 'signatures', `${id}.sig`));
  });

  it('refuses a signed remote with no summary at all, without reading its refs/heads files', async () => {
    const path = join(server, 'summary');
    const saved = readFileSync(path);
    rmSync(path);
    try {
      nginx.clearLog();
      await refused(/remote origin has no summary, so there is no signed summary to verify/);
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
    await troveOk(origin, 'init');
    await troveOk(origin, 'commit', src, '-r', 'main', '-m', 'one');
    writeFileSync(join(src, 'd', 'f0'), 'changed\n');
    await troveOk(origin, 'commit', src, '-r', 'main', '-m', 'two');
    await troveOk(origin, 'keygen', '--out', key);
    await troveOk(origin, 'sign', 'main', '--key', key);
    // A pack a first pull uses, and one it does not (the mirror must fetch it to serve the summary).
    await troveOk(origin, 'delta', '--from-empty', 'main');
    await troveOk(origin, 'delta', 'main~1', 'main');
    await troveOk(origin, 'summary', '--key', key);
    upstream = await startNginx(origin);
    await troveOk(mirror, 'init');
    await troveOk(mirror, 'remote', 'add', 'up', upstream.url, '--sign-key', `${key}.pub`);
  });
  afterAll(async () => {
    await served?.stop();
    await upstream?.stop();
  });

  it('keeps the upstream summary, summary.sig and packs byte for byte, and serves them to a client with the same key', async () => {
    const r = JSON.parse(await troveOk(mirror, 'pull', '--mirror', 'up', '--json'));
    expect(r.deltas.used).toHaveLength(1);
    expect(r.mirror.summary).toBe(true);
    expect(r.mirror.deltas).toHaveLength(1); // the FROM-TO pack; the from-empty one came with the pull
    for (const f of ['summary', 'summary.sig']) expect(readFileSync(join(mirror, f))).toEqual(readFileSync(join(origin, f)));
    expect(files(mirror, 'deltas')).toEqual(files(origin, 'deltas'));
    expect(files(mirror, 'deltas')).toHaveLength(2);
    for (const f of files(origin, 'deltas')) expect(readFileSync(join(mirror, 'deltas', f))).toEqual(readFileSync(join(origin, 'deltas', f)));
    await troveOk(mirror, 'fsck');

    served = await startNginx(mirror);
    const client = join(base, 'client');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'm', served.url, '--sign-key', `${key}.pub`);
    const c = JSON.parse(await troveOk(client, 'pull', 'm', 'main', '--json'));
    expect(c.deltas.used).toEqual([`empty-${head(origin, 'heads/main')}`]);
    expect(head(client, 'remotes/m/main')).toBe(head(origin, 'heads/main'));
    expect(served.accessLog().map((l) => l.path)).toContain('/summary.sig');
    await troveOk(client, 'fsck');
  });

  it('a pull again fetches none of the packs it already keeps', async () => {
    upstream.clearLog();
    const r = JSON.parse(await troveOk(mirror, 'pull', '--mirror', 'up', '--json'));
    expect(r.mirror).toEqual({ summary: true, deltas: [] });
    expect(upstream.accessLog().filter((l) => l.path.startsWith('/deltas/'))).toEqual([]);
  });

  it('a client refuses the mirror summary once it is changed, and stores nothing', async () => {
    const client = join(base, 'client2');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'm', served.url, '--sign-key', `${key}.pub`);
    const path = join(mirror, 'summary');
    const good = readFileSync(path);
    writeFileSync(path, good.toString('utf8').replace('"timestamp":', '"timestamp":1'));
    try {
      const r = await trove(['--repo', client, 'pull', 'm', 'main', '--retries', '0']);
      expect(r.stderr).toMatch(/summary of remote m has a bad signature/);
      expect(r.code).toBe(5);
      expect(objectCount(client)).toBe(0);
      expect(readdirSync(join(client, 'refs'))).not.toContain('remotes');
    } finally {
      writeFileSync(path, good);
    }
  });

  it('does not keep the upstream summary when only some of its refs are pulled', async () => {
    await troveOk(origin, 'commit', src, '-r', 'other', '-m', 'other');
    await troveOk(origin, 'sign', 'other', '--key', key);
    await troveOk(origin, 'summary', '--key', key);
    const partial = join(base, 'partial');
    await troveOk(partial, 'init');
    await troveOk(partial, 'remote', 'add', 'up', upstream.url, '--sign-key', `${key}.pub`);
    const r = await trove(['--repo', partial, 'pull', '--mirror', 'up', 'main', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/upstream summary is not kept: refs other were not pulled/);
    expect(JSON.parse(r.stdout).mirror.summary).toBe(false);
    expect(readdirSync(partial)).not.toContain('summary');
    expect(readdirSync(partial)).not.toContain('summary.sig');
  });
});
