import { readFile, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRef, corrupt, exists, isErrno, notARepo, notFound, usage } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Repo } from '../repo/repo.js';
import { parsePublicKey } from './sign.js';

/** A configured remote, as stored under `remotes` in `<repo>/config`. */
export interface RemoteConfig {
  /** `http://…`, `https://…` (with a trailing slash), or an absolute path of a repository directory. */
  url: string;
  /** Public key (SPKI PEM) that must sign the summary and every pulled commit. */
  signKey?: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function assertRemoteName(name: string): void {
  if (!NAME.test(name) || name.includes('..')) {
    throw badRef(`invalid remote name ${JSON.stringify(name)} (letters, digits, . _ -; at most 64)`, { remote: name });
  }
}

/** True for an `http://…` or `https://…` location (else it is a local path). */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * Normalises a remote location: http(s) URLs keep a trailing slash, paths
 * and file: URLs become absolute paths. Anything else that starts like a
 * URL scheme (`ftp:`, a typo such as `htp:/x`, `http:/x` missing a slash) is
 * E_USAGE rather than a relative path. Does no I/O.
 */
export function normaliseUrl(url: string, cwd = process.cwd()): string {
  if (/^https?:/i.test(url)) {
    let u: URL | undefined;
    try {
      if (isHttpUrl(url)) u = new URL(url);
    } catch {
      // reported below
    }
    if (!u || !u.hostname) throw usage(`not a valid URL: ${url} (expected http://HOST/PATH or https://HOST/PATH)`);
    if (u.search || u.hash) throw usage(`remote URL must not have a query or fragment: ${url}`);
    if (!u.pathname.endsWith('/')) u.pathname += '/';
    return u.toString();
  }
  if (/^file:/i.test(url)) {
    try {
      return fileURLToPath(url);
    } catch (err) {
      throw usage(`not a valid file: URL: ${url} (${(err as Error).message})`);
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (scheme) throw usage(`unsupported remote URL scheme ${scheme[1]}: in ${url} (use http://, https://, file: or a path)`);
  return isAbsolute(url) ? resolve(url) : resolve(cwd, url);
}

/** Throws E_NOT_FOUND unless the local remote location `path` exists (checked when a remote is added). */
async function assertExists(path: string): Promise<void> {
  try {
    await stat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(`remote location ${path} does not exist`);
    throw err;
  }
}

/**
 * Throws E_NOT_A_REPO unless `path` looks like a trove repository to a
 * client: a directory with `objects/` and `refs/` directories (the public
 * layout; `config` is private and need not be there).
 */
export async function assertLocalRepository(path: string): Promise<void> {
  for (const sub of ['objects', 'refs']) {
    let isDir = false;
    try {
      isDir = (await stat(join(path, sub))).isDirectory();
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
    }
    if (!isDir) throw notARepo(`not a trove repository: ${path} (it has no ${sub}/ directory)`, { path });
  }
}

async function readConfig(repoPath: string): Promise<Record<string, unknown>> {
  const path = join(repoPath, 'config');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) throw corrupt(`${path} is not valid JSON`);
    throw err;
  }
}

function remotesOf(config: Record<string, unknown>): Record<string, RemoteConfig> {
  const r = config.remotes;
  if (r === undefined) return {};
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw corrupt('config: "remotes" is not an object');
  return r as Record<string, RemoteConfig>;
}

async function saveRemotes(repoPath: string, config: Record<string, unknown>, remotes: Record<string, RemoteConfig>): Promise<void> {
  const next = { ...config, remotes };
  await writeFileAtomic(join(repoPath, 'config'), `${JSON.stringify(next, null, 2)}\n`, { tmpDir: join(repoPath, 'tmp'), tag: 'file' });
}

/** Every configured remote, by name. */
export async function listRemotes(repoPath: string): Promise<Record<string, RemoteConfig>> {
  return remotesOf(await readConfig(repoPath));
}

export async function getRemote(repoPath: string, name: string): Promise<RemoteConfig> {
  assertRemoteName(name);
  const r = (await listRemotes(repoPath))[name];
  if (!r) throw notFound(`no remote named ${name} (add one with: trove remote add ${name} URL)`);
  return r;
}

/** Adds a remote; E_EXISTS when the name is taken. */
export async function addRemote(repoPath: string, name: string, url: string, signKeyPem?: string): Promise<RemoteConfig> {
  assertRemoteName(name);
  if (signKeyPem !== undefined) parsePublicKey(signKeyPem);
  const config = await readConfig(repoPath);
  const remotes = remotesOf(config);
  if (remotes[name]) throw exists(`remote ${name} already exists`, { remote: name });
  const entry: RemoteConfig = { url: normaliseUrl(url) };
  if (!isHttpUrl(entry.url)) await assertExists(entry.url);
  if (signKeyPem !== undefined) entry.signKey = signKeyPem;
  await saveRemotes(repoPath, config, { ...remotes, [name]: entry });
  return entry;
}

/**
 * Removes a remote from the config. With `prune`, its remote-tracking refs
 * (`refs/remotes/<name>/...`) are deleted first, so gc can free what only
 * they kept; without it they stay until deleted (`trove refs delete`).
 * Returns the refs deleted, as `refs/remotes/<name>/<ref>`.
 */
export async function removeRemote(repo: Repo, name: string, opts: { prune?: boolean } = {}): Promise<string[]> {
  assertRemoteName(name);
  if (!(await listRemotes(repo.path))[name]) throw notFound(`no remote named ${name}`, { remote: name });
  const deleted: string[] = [];
  if (opts.prune) {
    for (const r of await repo.refs.list(`remotes/${name}`)) {
      await repo.refs.delete(`${name}/${r.name}`, 'remotes');
      deleted.push(`refs/remotes/${name}/${r.name}`);
    }
  }
  const config = await readConfig(repo.path);
  const remotes = { ...remotesOf(config) };
  if (!remotes[name]) throw notFound(`no remote named ${name}`, { remote: name });
  delete remotes[name];
  await saveRemotes(repo.path, config, remotes);
  // Its cached package index (see package-index.ts).
  await rm(join(repo.path, 'remotes', name), { recursive: true, force: true });
  return deleted;
}
