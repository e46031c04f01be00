// Entry point of the detached mount daemon: `node dist/fuse/main.js REPO MNT [--cache-mb=N] [--suid]`.
// Started by `trove mount` after it has validated the repository; see daemon.ts.
import { runDaemon, storeAt } from './daemon.js';

const [repoPath, mountpoint, ...flags] = process.argv.slice(2);
if (!repoPath || !mountpoint) {
  process.stderr.write('usage: main.js REPO MOUNTPOINT [--cache-mb=N] [--suid]\n');
  process.exit(2);
}
const cacheMb = Number(flags.find((f) => f.startsWith('--cache-mb='))?.slice('--cache-mb='.length) ?? 64);
runDaemon(storeAt(repoPath), mountpoint, { cacheMb, suid: flags.includes('--suid') }).catch(() => process.exit(1));
