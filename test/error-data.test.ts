import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPath, readFileAt } from '../src/repo/browse.js';
import { checkoutRev } from '../src/repo/checkout.js';
import { commitSource } from '../src/repo/commit.js';
import { Repo } from '../src/repo/repo.js';
import { readPrivateKey, signCommit, writeKeyPair } from '../src/remote/sign-commit.js';
import { parseSignatures } from '../src/remote/sign.js';
import { type ErrorCode, type ErrorData, isTroveError } from '../src/util/errors.js';
import { tmpdir } from './helpers/tmp.js';

/** The code and data of what `p` rejects with (it must reject with a TroveError). */
async function failure(p: Promise<unknown>): Promise<{ code: ErrorCode; data: ErrorData }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isTroveError(err)) throw new Error(`expected a TroveError, got ${String(err)}`);
  return { code: err.code, data: err.data };
}

describe('structured error data and the operations the commands call', () => {
  const base = tmpdir('trove-errdata');
  const repoDir = join(base, 'repo');
  let repo: Repo;
  let first: string;
  let second: string;

  beforeAll(async () => {
    repo = await Repo.init(repoDir);
    const src = join(base, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'os-release'), 'NAME=trove\n');
    first = (await commitSource(repo, src, { ref: 'main', subject: 'one' })).commit;
    writeFileSync(join(src, 'etc', 'hostname'), 'box\n');
    second = (await commitSource(repo, src, { ref: 'main', subject: 'two' })).commit;
  });
  afterAll(async () => {
    await repo?.close();
  });

  it('names the path that holds no repository, or already holds one', async () => {
    expect(await failure(Repo.open(join(base, 'nowhere')))).toEqual({ code: 'E_NOT_A_REPO', data: { path: join(base, 'nowhere') } });
    expect(await failure(Repo.init(repoDir))).toEqual({ code: 'E_EXISTS', data: { path: repoDir } });
  });

  it('names the ref, and what was expected and found, when a compare-and-swap loses', async () => {
    expect(await failure(repo.refs.write('main', first, 'heads', { expected: first }))).toEqual({
      code: 'E_LOCKED',
      data: { ref: 'main', expected: first, actual: second },
    });
    expect(await failure(repo.refs.write('main/sub', first))).toMatchObject({ code: 'E_BAD_REF', data: { ref: 'main/sub' } });
  });

  it('names the revision that resolves to nothing', async () => {
    expect(await failure(checkoutRev(repo, 'no-such-ref', join(base, 'co-none')))).toEqual({ code: 'E_NOT_FOUND', data: { spec: 'no-such-ref' } });
  });

  it('lists and reads paths inside a commit; a directory is not a file', async () => {
    expect((await listPath(repo, 'main:etc')).map((r) => r.path)).toEqual(['hostname', 'os-release']);
    expect((await listPath(repo, 'main', { recursive: true })).map((r) => r.path)).toEqual(['etc', 'etc/hostname', 'etc/os-release']);
    expect(Buffer.from(await readFileAt(repo, 'main:etc/hostname')).toString()).toBe('box\n');
    expect(await failure(readFileAt(repo, 'main:etc'))).toEqual({ code: 'E_USAGE', data: { spec: 'main:etc' } });
    expect(await failure(readFileAt(repo, 'main:etc/nope'))).toEqual({ code: 'E_NOT_FOUND', data: { spec: 'main:etc/nope', id: second } });
  });

  it('checks a revision out under the shared lock and says which commit it was', async () => {
    const r = await checkoutRev(repo, 'main~1', join(base, 'co'));
    expect(r.commit).toBe(first);
    expect(r.files).toBe(1);
    expect(readFileSync(join(base, 'co', 'etc', 'os-release'), 'utf8')).toBe('NAME=trove\n');
    expect(await failure(checkoutRev(repo, 'main', join(base, 'co')))).toEqual({ code: 'E_EXISTS', data: { path: join(base, 'co') } });
  });

  it('writes a key pair once, and signs commits keeping other keys’ lines', async () => {
    const a = join(base, 'a.pem');
    const b = join(base, 'b.pem');
    const ka = await writeKeyPair(a);
    const kb = await writeKeyPair(b);
    expect(ka).toMatchObject({ private: a, public: `${a}.pub` });
    expect(await failure(writeKeyPair(a))).toEqual({ code: 'E_EXISTS', data: { path: a } });
    expect((await writeKeyPair(b, { force: true })).keyId).not.toBe(kb.keyId);

    const s1 = await signCommit(repo, { rev: 'main', key: await readPrivateKey(a) });
    expect(s1).toEqual({ commit: second, keyId: ka.keyId, path: `signatures/${second}.sig` });
    const s2 = await signCommit(repo, { rev: 'main', key: await readPrivateKey(b) });
    await signCommit(repo, { rev: 'main', key: await readPrivateKey(a) });
    const lines = parseSignatures(readFileSync(join(repoDir, s1.path), 'utf8')).map((l) => l.keyId);
    expect(lines.sort()).toEqual([ka.keyId, s2.keyId].sort());
    expect((await failure(readPrivateKey(`${a}.pub`))).code).toBe('E_USAGE');
  });
});
