import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ioError, isErrno, isTroveError, usage } from '../../util/errors.js';
import { Repo } from '../../repo/repo.js';
import { print, repoPath } from '../context.js';

interface MountFlags {
  foreground?: boolean;
  cacheMb?: string;
  suid?: boolean;
  debug?: boolean;
  pollMs?: string;
}

export function register(program: Command): void {
  program
    .command('mount')
    .description('serve every commit read-only over FUSE at MNT/commits/<id>, with refs and profiles as symlinks')
    .argument('<mountpoint>', 'directory to mount on (created when missing)')
    .option('--foreground', 'serve from this process instead of a detached daemon')
    .option('--cache-mb <n>', 'memory bound of the decoded-tree cache in MiB', '64')
    .option('--suid', 'honour setuid/setgid bits (mounted nosuid otherwise)')
    .option('--poll-ms <ms>', 'keep polling this long after each request instead of sleeping (0: never)', '2')
    .option('--debug', "libfuse's request log (with --foreground)")
    .addHelpText(
      'after',
      '\nLayout: MNT/commits/<id>/... (any commit, looked up on first use), MNT/refs/<name> and\n' +
        'MNT/profiles/<profile>/<N> (symlinks to ../commits/<id>). The daemon logs to <repo>/mount.log\n' +
        'and records itself in <repo>/mount.json. See docs/fuse.md.',
    )
    .action(async (mnt: string, flags: MountFlags, cmd: Command) => {
      const mountpoint = resolve(mnt);
      const cacheMb = Number(flags.cacheMb ?? '64');
      if (!Number.isInteger(cacheMb) || cacheMb < 1) throw usage(`--cache-mb must be a positive integer, not ${flags.cacheMb}`);
      const pollMs = Number(flags.pollMs ?? '2');
      if (!(pollMs >= 0)) throw usage(`--poll-ms must be a number of ms, not ${flags.pollMs}`);
      const daemon = await import('../../fuse/daemon.js');
      const repo = await Repo.open(repoPath(cmd));
      if (!flags.foreground) {
        try {
          for (const note of await daemon.prepareMountpoint(repo, mountpoint)) print(note);
          const args = [`--cache-mb=${cacheMb}`, `--poll-ms=${pollMs}`, ...(flags.suid ? ['--suid'] : [])];
          const m = await daemon.startDaemon(repo, mountpoint, args);
          print(`mounted ${repo.path} at ${mountpoint} (daemon pid ${m.pid}, ready in ${Math.round(m.readyMs)} ms; log: ${daemon.logPath(repo)})`);
        } catch (err) {
          // The mount's own files (mount.log, mount.json) sit in the repository.
          const path = (err as NodeJS.ErrnoException).path;
          if (!(isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) || path === undefined) throw err;
          throw ioError(`cannot mount ${mountpoint}: permission denied on ${path} (run as root, or let this user write it: chmod/chown)`, { path }, { cause: err });
        } finally {
          await repo.close();
        }
        return;
      }
      // Foreground: serve until a signal or an unmount ends the process.
      try {
        await daemon.runDaemon(repo, mountpoint, { cacheMb, pollMs, suid: flags.suid, debug: flags.debug });
      } catch (err) {
        await repo.close();
        throw err;
      }
      await new Promise<never>(() => {});
    });

  program
    .command('umount')
    .alias('unmount')
    .description('unmount a trove view and stop its daemon; also cleans the mount left by a daemon that died')
    .argument('<mountpoint>', 'where the view is mounted')
    .action(async (mnt: string, _opts: unknown, cmd: Command) => {
      const mountpoint = resolve(mnt);
      const daemon = await import('../../fuse/daemon.js');
      const repo = await Repo.open(repoPath(cmd)).catch((err: unknown) => {
        if (isTroveError(err, 'E_NOT_A_REPO')) return undefined;
        throw err;
      });
      try {
        const r = await daemon.unmount(repo, mountpoint);
        if (r.stale) print(`${mountpoint}: its daemon had died; cleaned the stale mount`);
        if (r.lazy) print(`${mountpoint} is busy: detached it lazily; its daemon serves the processes still using it and exits when they are done`);
        print(`unmounted ${mountpoint}${r.stoppedPid ? ` (stopped daemon pid ${r.stoppedPid})` : ''}`);
      } finally {
        await repo?.close();
      }
    });
}
