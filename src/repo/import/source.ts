import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isErrno, notFound, usage } from '../../util/errors.js';
import type { ObjectStore, PublishStore } from '../../store/types.js';
import { type DirImportOptions, importDir } from './dir.js';
import type { TreeImport } from './tar.js';

// The archive readers (tar-stream and the decompressors) load only for archives:
// a directory commit, the common case, does not pay their start-up time.

export type SourceKind = 'dir' | 'deb' | 'tar';

/** What `path` is: a directory, a Debian package (by its ar magic) or a tar archive. */
export async function sourceKind(path: string): Promise<SourceKind> {
  let st: import('node:fs').Stats;
  try {
    st = await stat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw notFound(`no such file or directory: ${path}`);
    throw err;
  }
  if (st.isDirectory()) return 'dir';
  if (!st.isFile()) throw usage(`${path} is neither a directory nor a regular file`);
  const { isDeb } = await import('./deb.js');
  return (await isDeb(path)) ? 'deb' : 'tar';
}

/** Imports a directory, tar archive (.tar, .tar.gz, .tar.xz, .tar.zst) or .deb into `store`. */
export async function importSource(
  path: string,
  store: Pick<ObjectStore, 'put' | 'putStream' | 'has' | 'hasSync' | 'putSync' | 'putFileSync'> & Partial<PublishStore>,
  opts: DirImportOptions = {},
): Promise<TreeImport & { kind: SourceKind }> {
  const abs = resolve(path);
  const kind = await sourceKind(abs);
  if (kind === 'dir') return { kind, ...(await importDir(abs, store, opts)) };
  const tarOpts = { onProgress: opts.onProgress };
  if (kind === 'deb') return { kind, ...(await (await import('./deb.js')).importDeb(abs, store, tarOpts)) };
  return { kind, ...(await (await import('./tar.js')).importTar(createReadStream(abs), store, { ...tarOpts, compressedSize: (await stat(abs)).size })) };
}
