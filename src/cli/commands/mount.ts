import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ERROR_HELPERS, ioError, isErrno, isTroveError, usage } from '../../util/errors.js';
import { Repo } from '../../repo/repo.js';
import { io, print, printJson, repoPath, say } from '../context.js';
import type { Repointed, ViewLink } from '../../system/activation/views.js';

interface MountFlags {
  foreground?: boolean;
  cacheMb?: string;
  suid?: boolean;
  debug?: boolean;
  pollMs?: string;
  watchdogMs?: string;
  fetchTimeoutMs?: string;
  libfuse?: string;
  readdirplus?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('mount')
    .description('serve every commit read-only over FUSE at MNT/commits/<id>, with refs and profiles as symlinks')
    .argument('<mountpoint>', 'directory to mount on (created when missing)')
    .option('--foreground', 'serve from this process instead of a detached daemon')
    .option('--cache-mb <n>', 'memory bound of the decoded-tree cache in MiB', '64')
    .option('--suid', 'honour setuid/setgid bits (mounted nosuid otherwise)')
    .option('--poll-ms <ms>', 'keep polling this long after each request instead of sleeping (0: never)', '0.2')
    .option('--watchdog-ms <ms>', 'abort the mount and kill the daemon when it has not run this long while requests wait (0: no watchdog)', '10000')
    .option('--fetch-timeout-ms <ms>', 'how long a read of a file of a partial commit (trove install --lazy) waits for it to arrive before it fails with EIO', '20000')
    .option('--libfuse <version>', "serve through libfuse 3 (trove's binding, the default when built) or 2 (fuse-native)")
    .option('--no-readdirplus', 'with libfuse 3: list directories without the attributes of their entries (the kernel then looks up each name)')
    .option('--debug', "libfuse's request log (with --foreground)")
    .option('--json', 'print the mount as JSON (with --foreground: one line once it serves)')
    .addHelpText(
      'after',
      '\nLayout: MNT/commits/<id>/... (any commit, looked up on first use), MNT/refs/<name> and\n' +
        'MNT/profiles/<profile>/<N> (symlinks to ../commits/<id>). The daemon logs to <repo>/mount.log\n' +
        'and records itself in <repo>/mount.json. A watchdog process aborts the mount (readers get\n' +
        'ENOTCONN) and kills the daemon when it has not run for --watchdog-ms while requests wait\n' +
        '(stopped, busy in a loop, deadlocked). Files of partial commits (install or upgrade\n' +
        '--lazy) are fetched from their remote on their first read, verified before any byte is\n' +
        'served; a read that waits longer than --fetch-timeout-ms fails with EIO and a line in the\n' +
        'log naming the path and object. As root it also mounts again the read-only\n' +
        'checkout views that active links point at (gone after a reboot), as switch --restore does.\n' +
        'See docs/fuse.md.',
    )
    .action(async (mnt: string, flags: MountFlags, cmd: Command) => {
      const mountpoint = resolve(mnt);
      const cacheMb = Number(flags.cacheMb ?? '64');
      if (!Number.isInteger(cacheMb) || cacheMb < 1) throw usage(`--cache-mb must be a positive integer, not ${flags.cacheMb}`);
      const pollMs = Number(flags.pollMs ?? '0.2');
      if (!(pollMs >= 0)) throw usage(`--poll-ms must be a number of ms, not ${flags.pollMs}`);
      const watchdogMs = Number(flags.watchdogMs ?? '10000');
      if (!Number.isInteger(watchdogMs) || (watchdogMs !== 0 && watchdogMs < 100)) {
        throw usage(`--watchdog-ms must be 0 (no watchdog) or a whole number of ms from 100 up, not ${flags.watchdogMs}`);
      }
      const fetchTimeoutMs = Number(flags.fetchTimeoutMs ?? '20000');
      if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs < 100) throw usage(`--fetch-timeout-ms must be a whole number of ms from 100 up, not ${flags.fetchTimeoutMs}`);
      if (flags.libfuse !== undefined && flags.libfuse !== '2' && flags.libfuse !== '3') throw usage(`--libfuse must be 2 or 3, not ${flags.libfuse}`);
      const libfuse = flags.libfuse === undefined ? undefined : (Number(flags.libfuse) as 2 | 3);
      const readdirplus = flags.readdirplus !== false;
      const daemon = await import('../../fuse/daemon.js');
      const repo = await Repo.open(repoPath(cmd));
      if (!flags.foreground) {
        try {
          const notes = await daemon.prepareMountpoint(repo, mountpoint);
          if (!flags.json) for (const note of notes) say(note);
          const args = [
            `--cache-mb=${cacheMb}`,
            `--poll-ms=${pollMs}`,
            `--watchdog-ms=${watchdogMs}`,
            `--fetch-timeout-ms=${fetchTimeoutMs}`,
            ...(flags.suid ? ['--suid'] : []),
            ...(libfuse ? [`--libfuse=${libfuse}`] : []),
            ...(readdirplus ? [] : ['--no-readdirplus']),
          ];
          // What the notes after the mount need is read while the daemon starts: neither depends on it
          // (the links are only read; the checkout views are mounts of their own), and the command then
          // exits as soon as the daemon serves.
          const notesAfter = Promise.all([throughView(repo, mountpoint), restoredViews(repo)]);
          // Awaited below; marked handled now, so that a failure while the daemon starts is not an unhandled rejection.
          notesAfter.catch(() => undefined);
          let m: Awaited<ReturnType<typeof daemon.startDaemon>>;
          try {
            m = await daemon.startDaemon(repo, mountpoint, args);
          } catch (err) {
            await notesAfter.catch(() => undefined);
            throw err;
          }
          const mounted = `mounted ${repo.path} at ${mountpoint} (daemon pid ${m.pid}, ready in ${Math.round(m.readyMs)} ms; log: ${daemon.logPath(repo)})`;
          if (!flags.json) say(mounted);
          const after = (await notesAfter).flat();
          if (flags.json) printJson({ repo: repo.path, mountpoint, pid: m.pid, logFile: daemon.logPath(repo), notes: [...notes, ...after] });
          else for (const note of after) say(note);
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
        const log = (line: string) => io().stderr.write(`${new Date().toISOString()} ${line}\n`);
        // The repository's own store takes the blobs of partial commits the view fetches on read.
        await daemon.runDaemon({ path: repo.path, store: repo.store, installer: repo.store }, mountpoint, {
          cacheMb,
          pollMs,
          watchdogMs,
          fetchTimeoutMs,
          suid: flags.suid,
          debug: flags.debug,
          libfuse,
          readdirplus,
          log,
        });
        const notes = [...(await throughView(repo, mountpoint)), ...(await restoredViews(repo))];
        for (const note of notes) log(note);
        if (flags.json) io().stdout.write(`${JSON.stringify({ repo: repo.path, mountpoint, pid: process.pid, logFile: null, notes })}\n`);
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
    .option('--force', 'leave links that point into the view as they are (they dangle until the view is mounted again); abort the mount of a daemon that does not answer')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nLinks of this repository that point into the view (a profile\'s active link, a bisect\n' +
        'session\'s link) are first re-pointed, atomically, at a checkout of the same commit\n' +
        '(<repo>/checkouts/<id>, made when missing), and the active record with them, so no\n' +
        'link dangles. When that fails the view stays mounted; --force skips it. A daemon that\n' +
        'does not answer (stopped, busy in a loop) is refused without --force; with it, its FUSE\n' +
        'connection is aborted (readers get ENOTCONN) and it is killed.',
    )
    .action(async (mnt: string, flags: { force?: boolean; json?: boolean }, cmd: Command) => {
      const mountpoint = resolve(mnt);
      const daemon = await import('../../fuse/daemon.js');
      const repo = await Repo.open(repoPath(cmd)).catch((err: unknown) => {
        if (isTroveError(err, 'E_NOT_A_REPO')) return undefined;
        throw err;
      });
      const sayUnlessJson = (line: string) => {
        if (!flags.json) say(line);
      };
      try {
        // Checked first: re-pointing links and unmounting would wait on a daemon that cannot answer.
        const hung = repo ? await daemon.unresponsiveView(repo, mountpoint) : null;
        if (hung && !flags.force) {
          throw ioError(`cannot unmount ${mountpoint}: ${hung}; trove umount --force ${mnt} aborts its connection and kills it`, { path: mountpoint });
        }
        const { linksIntoView, repointOffView } = await import('../../system/activation/views.js');
        let repointed: Repointed[] = [];
        let dangling: ViewLink[] = [];
        if (repo && flags.force) dangling = await linksIntoView(repo, mountpoint);
        else if (repo) {
          try {
            repointed = await repointOffView(repo, mountpoint);
          } catch (err) {
            throw ERROR_HELPERS[isTroveError(err) ? err.code : 'E_IO'](
              `could not re-point the links into ${mountpoint} at checkouts, so it stays mounted: ${(err as Error).message}; ` +
                `trove umount --force ${mnt} unmounts anyway and leaves them dangling`,
              { path: mountpoint },
              { cause: err },
            );
          }
        }
        for (const r of repointed) sayUnlessJson(`re-pointed ${r.link} (${describe(r)}) off the view, at the checkout ${r.to}${r.made ? ' (new checkout)' : ''}`);
        for (const d of dangling) if (!flags.json) print(`warning: ${d.link} (${describe(d)}) points into ${mountpoint} and dangles once it is unmounted; run: trove mount ${mountpoint}, or ${d.fix}`);
        const r = await daemon.unmount(repo, mountpoint, { force: flags.force });
        if (r.aborted) sayUnlessJson(`${mountpoint}: ${r.aborted}: aborted its FUSE connection and killed it (pid ${r.stoppedPid})`);
        if (r.stale) sayUnlessJson(`${mountpoint}: its daemon had died; cleaned the stale mount`);
        if (r.lazy) sayUnlessJson(`${mountpoint} is busy: detached it lazily; its daemon serves the processes still using it and exits when they are done`);
        sayUnlessJson(`unmounted ${mountpoint}${r.stoppedPid ? ` (stopped daemon pid ${r.stoppedPid})` : ''}`);
        if (flags.json) {
          printJson({
            mountpoint,
            stale: r.stale,
            lazy: r.lazy,
            pid: r.stoppedPid ?? null,
            aborted: r.aborted ?? null,
            repointed: repointed.map((x) => ({ profile: x.profile, role: x.role, link: x.link, commit: x.commit, from: x.pointsAt, to: x.to, made: x.made, recordUpdated: x.recordUpdated })),
            dangling: dangling.map((x) => ({ profile: x.profile, role: x.role, link: x.link, commit: x.commit, target: x.pointsAt, fix: x.fix })),
          });
        }
      } finally {
        await repo?.close();
      }
    });
}

/** `profile P` or `bisect of profile P`. */
function describe(l: ViewLink): string {
  return l.role === 'active' ? `profile ${l.profile}` : `bisect of profile ${l.profile}`;
}

/** Notes after a mount: the links of the repository that go through the view (and resolve again). */
async function throughView(repo: Repo, mountpoint: string): Promise<string[]> {
  const { linksIntoView } = await import('../../system/activation/views.js');
  const links = await linksIntoView(repo, mountpoint).catch(() => []);
  return links.map((l) => `${l.link} (${describe(l)}) points into this view and resolves again`);
}

/** Mounts again the read-only checkout views active links point at (after a reboot), one note each. */
async function restoredViews(repo: Repo): Promise<string[]> {
  if (process.getuid?.() !== 0) return [];
  const { restoreCheckoutViews } = await import('../../system/activation/checkouts.js');
  return (await restoreCheckoutViews(repo)).map((v) => `mounted the read-only checkout ${v.target} again (${v.link}, ${v.role === 'active' ? `profile ${v.profile}` : `bisect of profile ${v.profile}`})`);
}
