import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';

/** The record of a running FUSE view of this repository: `<repo>/mount.json`. */
export interface MountRecord {
  /** Absolute mount point; commits are at `<mountpoint>/commits/<id>`. */
  mountpoint: string;
  pid: number;
}

const FILE = 'mount.json';

/** The live mount of the repository, or undefined (a record whose daemon died counts as none). */
export async function readMount(repoPath: string): Promise<MountRecord | undefined> {
  let rec: MountRecord;
  try {
    rec = JSON.parse(await readFile(join(repoPath, FILE), 'utf8')) as MountRecord;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
  try {
    process.kill(rec.pid, 0);
  } catch (err) {
    if (!isErrno(err, 'EPERM')) return undefined;
  }
  return rec;
}

export async function writeMount(repoPath: string, rec: MountRecord): Promise<void> {
  await writeFileAtomic(join(repoPath, FILE), `${JSON.stringify(rec)}\n`, { tmpDir: join(repoPath, 'tmp'), tag: 'mount' });
}

export async function clearMount(repoPath: string): Promise<void> {
  await rm(join(repoPath, FILE), { force: true });
}
