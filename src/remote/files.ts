import { writeFileAtomic } from '../util/fs-atomic.js';

/** `writeFileAtomic` with the arguments `trove sign` passes (src/cli/commands/sign.ts); other code calls writeFileAtomic itself. */
export async function writeAtomic(path: string, data: string | Uint8Array, tmpDir: string, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, data, { tmpDir, tag: 'file', mode });
}
