import { performance } from 'node:perf_hooks';
import { ERR } from './errno.js';
import type { FuseHandlers } from './handlers.js';

/**
 * Requests the daemon answered, by operation, since it started: how many,
 * how many of them failed with ENOENT (`<op>-enoent`: for `getattr`, the
 * kernel's negative lookups), and the milliseconds from each request's arrival
 * in JavaScript to its answer. `kill -USR2 <daemon pid>` writes them to the
 * log (docs/fuse.md, "Requests").
 */
export class RequestCounts {
  private readonly calls: Record<string, number> = {};
  private readonly ms: Record<string, number> = {};

  /** `handlers`, each of which counts its requests and their answers. */
  wrap(handlers: FuseHandlers): FuseHandlers {
    const out: Record<string, unknown> = {};
    for (const [op, fn] of Object.entries(handlers) as [string, (...args: unknown[]) => void][]) {
      out[op] = (...args: unknown[]) => {
        const at = performance.now();
        const cb = args[args.length - 1];
        if (typeof cb === 'function') {
          args[args.length - 1] = (first: unknown, ...rest: unknown[]) => {
            this.count(op, first === ERR.ENOENT, performance.now() - at);
            (cb as (...a: unknown[]) => void)(first, ...rest);
          };
        }
        fn(...args);
      };
    }
    return out as unknown as FuseHandlers;
  }

  private count(op: string, enoent: boolean, ms: number): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (enoent) this.calls[`${op}-enoent`] = (this.calls[`${op}-enoent`] ?? 0) + 1;
    this.ms[op] = (this.ms[op] ?? 0) + ms;
  }

  /** Counts by operation (and `<op>-enoent`), in a stable key order. */
  counts(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.calls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Total ms by operation, rounded to 0.1 ms. */
  millis(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.ms)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([op, ms]) => [op, Math.round(ms * 10) / 10]),
    );
  }
}
