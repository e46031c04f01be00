// The mount daemon starts without NODE_EXTRA_CA_CERTS (its parse costs every Node start 40 ms) and gets
// the file under TROVE_EXTRA_CA_CERTS instead (src/util/extra-ca.ts): an HTTPS remote whose certificate
// only that file vouches for must still be trusted there, and nothing else must be. A real TLS server on
// loopback with a certificate made by openssl for the test.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransport } from '../src/remote/transport.js';
import { deferExtraCaCerts, deferredCa, EXTRA_CA_VAR, restoreExtraCaCerts } from '../src/util/extra-ca.js';
import { TROVE_BIN } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

const BODY = Buffer.from('an object served over TLS\n');

let dir: string;
let cert: string;
let server: Server;
let url: string;
const saved = { node: process.env.NODE_EXTRA_CA_CERTS, trove: process.env[EXTRA_CA_VAR] };

beforeAll(async () => {
  dir = tmpdir();
  cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    if (req.url === '/repo/objects/ab/cd') res.end(BODY);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/repo/`;
});

afterAll(async () => {
  for (const [name, value] of [['NODE_EXTRA_CA_CERTS', saved.node], [EXTRA_CA_VAR, saved.trove]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await new Promise((r) => server.close(r));
  removeTree(dir);
});

/** A GET of the test object through a new transport, in an environment where Node's own store lacks the test's CA. */
async function fetchWith(env: Record<string, string | undefined>): Promise<Buffer | undefined> {
  delete process.env.NODE_EXTRA_CA_CERTS;
  delete process.env[EXTRA_CA_VAR];
  Object.assign(process.env, env);
  const t = openTransport(url, { retries: 0, timeoutMs: 5000 });
  try {
    return await t.getBytes('objects/ab/cd', { retries: 0 });
  } finally {
    await t.close();
  }
}

describe('NODE_EXTRA_CA_CERTS handed on to the mount daemon', () => {
  it('moves the variable to TROVE_EXTRA_CA_CERTS, and leaves an environment without it as it is', () => {
    const env = deferExtraCaCerts({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/extra.pem' });
    expect(env).toEqual({ PATH: '/bin', [EXTRA_CA_VAR]: '/etc/extra.pem' });
    const plain = { PATH: '/bin' };
    expect(deferExtraCaCerts(plain)).toEqual(plain);
  });

  it("gives a command of the user's (bisect run) the variable back as the user set it", () => {
    expect(restoreExtraCaCerts({ PATH: '/bin', [EXTRA_CA_VAR]: '/etc/extra.pem' })).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/extra.pem' });
    // The bin's first line sets an empty one when the user set none.
    expect(restoreExtraCaCerts({ PATH: '/bin', [EXTRA_CA_VAR]: '' })).toEqual({ PATH: '/bin' });
    expect(restoreExtraCaCerts({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/a.pem' })).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/a.pem' });
  });

  it("trusts Node's roots and the file's certificates, and nothing more when Node read the file itself", () => {
    const ca = deferredCa(() => rootCertificates, { [EXTRA_CA_VAR]: cert })!;
    expect(ca.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    expect(ca.slice(rootCertificates.length)).toEqual([readFileSync(cert, 'utf8')]);
    expect(deferredCa(() => rootCertificates, { [EXTRA_CA_VAR]: cert, NODE_EXTRA_CA_CERTS: cert })).toBeUndefined();
    expect(deferredCa(() => rootCertificates, {})).toBeUndefined();
  });

  it('an HTTPS transport trusts a server that only the handed-on file vouches for', async () => {
    expect(await fetchWith({ [EXTRA_CA_VAR]: cert })).toEqual(BODY);
  });

  it('and refuses it without the file', async () => {
    await expect(fetchWith({})).rejects.toThrow(/certificate/i);
  });
});

describe("the bin's first line", () => {
  const bin = TROVE_BIN;

  it('starts Node without NODE_EXTRA_CA_CERTS, which Node would otherwise parse (and here warn about) first thing', () => {
    const missing = join(dir, 'no-such-bundle.pem');
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: missing };
    // Run as Node itself would run it: Node reads the file and warns that it cannot.
    const direct = spawnSync(process.execPath, [bin, '--version'], { env, encoding: 'utf8' });
    expect(direct.stderr).toContain(`Ignoring extra certs from \`${missing}\``);
    // Run as a command, through its first line: Node never sees the variable.
    const asCommand = spawnSync(bin, ['--version'], { env, encoding: 'utf8' });
    expect(asCommand.status, asCommand.stderr).toBe(0);
    expect(asCommand.stderr).toBe('');
    expect(asCommand.stdout).toBe(direct.stdout);
  });
});
