import { writeFileAtomic } from '../util/fs-atomic.js';

/** Writes a whole file by temp file and rename, so readers see the old or the new content. */
export async function writeAtomic(path: string, data: string | Uint8Array, tmpDir: string, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, data, { tmpDir, tag: 'file', mode });
}
