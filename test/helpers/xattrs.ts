import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';

/** True when the filesystem of `dir` takes `user.*` xattrs (ext4, xfs, btrfs and tmpfs since 6.6 do); says so when not. */
export function xattrsWork(dir: string): boolean {
  const probe = join(dir, 'xattr-probe');
  writeFileSync(probe, '');
  try {
    setAttributeSync(probe, 'user.probe', Buffer.from('1'));
    return getAttributeSync(probe, 'user.probe').toString() === '1';
  } catch (err) {
    console.warn(`xattr assertions skipped: ${dir} refuses user xattrs (${(err as Error).message})`);
    return false;
  }
}
