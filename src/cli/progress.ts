import { SingleBar } from 'cli-progress';
import type { PullProgress } from '../remote/pull.js';
import { io } from '../util/io.js';
import { bytes } from './printers.js';

/**
 * The progress bar of long commands (pull, upgrade, pkg add of several
 * packages): one cli-progress bar on stderr, cleared when done. `format` uses
 * cli-progress placeholders (`{bar}`, `{eta_formatted}`) and the payload's keys.
 */
export function terminalBar(format: string): SingleBar {
  return new SingleBar({
    format,
    hideCursor: true,
    clearOnComplete: true,
    fps: 8,
    etaBuffer: 200,
    stream: io().stderr as NodeJS.WriteStream,
  });
}

/** Whether a command shows a progress bar: stderr is a terminal, and neither --json nor --no-progress was given. */
export function wantsProgress(opts: { json?: boolean; progress?: boolean }): boolean {
  return !opts.json && opts.progress !== false && io().stderr.isTTY === true;
}

/**
 * The bar of a pull: objects against objects wanted, or for a delta pack,
 * bytes against the pack's size; then bytes received, rate, ETA. A notice
 * stops it (so the notice gets its own line); the next update starts it again.
 */
export function progressBar(): { update: (p: PullProgress) => void; stop: () => void } {
  const bar = terminalBar('{phase} [{bar}] {done} | {received} | {rate}/s | ETA {eta_formatted}');
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
