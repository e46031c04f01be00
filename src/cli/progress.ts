import { SingleBar } from 'cli-progress';
import type { PullProgress } from '../remote/pull.js';
import { io } from './context.js';
import { bytes } from './printers.js';

/**
 * A progress bar on a terminal: objects against objects wanted, or for a
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
