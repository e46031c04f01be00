import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempName } from '../store/disk.js';

/** Writes a whole file by temp file and rename, so readers see the old or the new content. */
export async function writeAtomic(path: string, data: string | Uint8Array, tmpDir: string, mode = 0o644): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(tmpDir, 'file');
  await writeFile(tmp, data, { mode, flag: 'wx' });
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
