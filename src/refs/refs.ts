import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno, notFound, TroveError } from '../errors.js';
import { isObjectId, type ObjectId } from '../hash/index.js';
import { tempName } from '../store/disk.js';

const COMPONENT = /^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*$/;

/** Why `name` is not a valid ref name (like `main` or `pkg/bash/amd64`), or null. */
export function refNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty ref name';
  if (name.length > 255) return 'ref name longer than 255 characters';
  for (const part of name.split('/')) {
    if (!COMPONENT.test(part)) return `bad component ${JSON.stringify(part)} (allowed: letters, digits, . _ + @ -; not starting with .)`;
    if (part.endsWith('.lock') || part.includes('..')) return `bad component ${JSON.stringify(part)}`;
  }
  return null;
}

export function assertRefName(name: string): void {
  const p = refNameProblem(name);
  if (p) throw new TroveError('E_BAD_REF', `invalid ref name ${JSON.stringify(name)}: ${p}`);
}

/**
 * Refs are files under `<repo>/refs/<namespace>/<name>` holding a commit id
 * and a newline, replaced atomically by temp file and rename. Namespaces:
 * `heads` (local branches), `remotes/<remote>` (remote tracking).
 */
export class Refs {
  constructor(
    private readonly refsDir: string,
    private readonly tmpDir: string,
  ) {}

  private path(name: string, ns: string): string {
    assertRefName(name);
    return join(this.refsDir, ns, name);
  }

  /** The commit id of a ref, or undefined when it does not exist. */
  async read(name: string, ns = 'heads'): Promise<ObjectId | undefined> {
    try {
      const text = (await readFile(this.path(name, ns), 'utf8')).trim();
      if (!isObjectId(text)) throw new TroveError('E_CORRUPT', `ref ${ns}/${name} holds no valid id`);
      return text;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) return undefined;
      throw err;
    }
  }

  /** Points `name` at `id`, atomically. */
  async write(name: string, id: ObjectId, ns = 'heads'): Promise<void> {
    if (!isObjectId(id)) throw new TroveError('E_BAD_REF', `not an object id: ${id}`);
    const dest = this.path(name, ns);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = tempName(this.tmpDir, 'ref');
    await writeFile(tmp, `${id}\n`);
    try {
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      if (isErrno(err, 'EISDIR') || isErrno(err, 'ENOTDIR')) {
        throw new TroveError('E_BAD_REF', `ref ${name} conflicts with an existing ref hierarchy`);
      }
      throw err;
    }
  }

  async delete(name: string, ns = 'heads'): Promise<void> {
    const p = this.path(name, ns);
    try {
      await rm(p);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`no such ref: ${name}`);
      throw err;
    }
  }

  /** All refs of a namespace, sorted by name. */
  async list(ns = 'heads'): Promise<{ name: string; id: ObjectId }[]> {
    const base = join(this.refsDir, ns);
    const out: { name: string; id: ObjectId }[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return;
        throw err;
      }
      for (const e of entries) {
        const name = prefix ? `${prefix}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(join(dir, e.name), name);
        else if (e.isFile() && refNameProblem(name) === null) {
          const id = await this.read(name, ns);
          if (id) out.push({ name, id });
        }
      }
    };
    await walk(base, '');
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
