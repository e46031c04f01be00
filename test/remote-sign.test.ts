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
