import { SingleBar } from 'cli-progress';
import type { Change } from '../repo/diff.js';
import type { PullProgress } from '../remote/pull.js';
import type { ActivateResult } from '../system/activation/activate.js';
import type { BuildResult } from '../system/generations/build.js';
import type { GenerationDiff } from '../system/generations/diff.js';
import { io, print } from './context.js';

/**
 * Text the commands print, shared between them: value formats (bytes, modes,
 * short ids) and the printers of results more than one command shows. A
 * command module imports these, never another command module.
 */

/** Human-readable byte count. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** `0755`-style mode text. */
export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** The first 12 hex digits of an object id. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

const MARK = { added: 'A', removed: 'D', modified: 'M' } as const;

/** `A path`, `D path` or `M path` (directories with a trailing /). */
export function changeLine(c: Change): string {
  return `${MARK[c.kind]} ${c.path}${c.entryKind === 'dir' ? '/' : ''}`;
}

/** Prints a built generation and every conflict it resolved (gen build, install, remove). */
export function printBuild(r: BuildResult): void {
  if (r.unchanged) print(`generation ${r.number} of ${r.profile} already has exactly these packages (${shortId(r.commit)}); nothing new`);
  else print(`generation ${r.number} of ${r.profile}: ${r.commit}`);
  print(`${r.packages.length} packages, ${r.conflicts.length} conflicts; read ${r.treesRead} trees, wrote ${r.written.objects} new objects (${bytes(r.written.bytes)})`);
  if (r.dependencies.length) print(`dependencies (${r.dependencies.length}): ${r.dependencies.join(' ')}`);
  for (const c of r.conflicts) print(`conflict ${c.path}: ${c.winner} wins over ${c.losers.join(', ')}`);
}

/** Prints package and file changes between two generations (gen diff, bisect). */
export function printGenerationDiff(d: GenerationDiff): void {
  for (const p of d.packages.added) print(`+ ${p}`);
  for (const p of d.packages.removed) print(`- ${p}`);
  for (const c of d.packages.changed) print(`~ ${c.from} -> ${c.to}`);
  for (const c of d.files) print(changeLine(c));
  const p = d.packages;
  print(`${p.added.length} packages added, ${p.removed.length} removed, ${p.changed.length} changed; ${d.files.length} paths changed`);
}

/** Prints what an activation did (switch, rollback, install, remove). */
export function printActivation(r: ActivateResult): void {
  const gen = r.generation === null ? `commit ${shortId(r.commit)}` : `generation ${r.generation} (${shortId(r.commit)})`;
  print(`${r.profile}: ${gen} active; ${r.link} -> ${r.target}${r.made ? ' (new checkout)' : ''}`);
  for (const note of r.notes) print(`note: ${note}`);
}

/**
 * A progress bar on a terminal (pull, install): objects against objects wanted, or for a
 * delta pack, bytes against the pack's size; then bytes received, rate, ETA.
 * A notice stops it (so the notice gets its own line); the next update starts it again.
 */
export function progressBar(): { update: (p: PullProgress) => void; stop: () => void } {
  const bar = new SingleBar({
    format: '{phase} [{bar}] {done} | {received} | {rate}/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 8,
    etaBuffer: 200,
    stream: io().stderr as NodeJS.WriteStream,
  });
  const started = Date.now();
  let running = false;
  return {
    update(p) {
      const useBytes = p.totalBytes !== undefined;
      const value = useBytes ? p.bytes : p.objects;
      const total = useBytes ? p.totalBytes! : Math.max(p.wanted, 1);
      const payload = {
        phase: p.phase,
        done: useBytes ? `${bytes(value)}/${bytes(total)} (${p.objects} objects)` : `${value}/${total} objects`,
        received: bytes(p.bytes),
        rate: bytes(p.bytes / Math.max(0.001, (Date.now() - started) / 1000)),
      };
      if (!running) {
        bar.start(total, value, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
