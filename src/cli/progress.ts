import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { PullProgress } from '../remote/pull.js';
import { io } from '../util/io.js';
import type { OnProgress, Progress } from '../util/progress.js';
import { type GlobalOptions, verbosity } from './context.js';
import { bytes } from './printers.js';

/**
 * The progress of one long command (docs/cli.md, "Progress and verbosity").
 * `onProgress` is what the command passes to the operation: undefined when
 * nothing is shown, so the operation does no work for it.
 */
export interface Meter {
  onProgress: OnProgress | undefined;
  /** The same, for a pull (also install and upgrade from remotes). */
  onPull: ((p: PullProgress) => void) | undefined;
  /** Writes a line on stderr of its own: the bar is cleared first and drawn again at the next update. */
  log(line: string): void;
  /**
   * Ends the progress: the bar is cleared; on a pipe (and under -v) the last
   * state is written as the phase's final line, unless the command `failed`.
   */
  stop(failed?: boolean): void;
}

/** How progress is shown: a redrawn bar on a terminal, one line a second elsewhere, or not at all. */
type Mode = 'bar' | 'lines' | 'off';

/** Progress lines are written at most this often on a pipe. */
const LINE_EVERY_MS = 1000;
/** The terminal bar is fed at most this often (it redraws at 8 fps). */
const BAR_EVERY_MS = 50;

/**
 * Where a meter reads `--progress`, `--no-progress` and `--json`: the
 * command as commander parsed it, or a direct command's options with the
 * global ones (src/cli/direct.ts).
 */
export type MeterFlags = Command | (GlobalOptions & { json?: boolean });

/**
 * Whether a command shows progress: never under `-q` or `--no-progress`;
 * with `--progress` always (on a pipe as lines, even with `--json`, on
 * stderr only); otherwise when stderr is a terminal and `--json` is not given.
 */
export function progressMode(flags: MeterFlags, opts: { json?: boolean } = {}): Mode {
  const g = 'optsWithGlobals' in flags ? flags.optsWithGlobals<GlobalOptions & { json?: boolean }>() : flags;
  if (verbosity() < 0 || g.progress === false) return 'off';
  const tty = io().stderr.isTTY === true;
  if (g.progress === true) return tty ? 'bar' : 'lines';
  return tty && !(opts.json ?? g.json) ? 'bar' : 'off';
}

/** `120 files, 1.2 MiB`, `30/120 objects, 1.2 MiB/4.0 MiB`. */
function counts(p: Snapshot): string {
  let s = `${p.total === undefined ? p.done : `${p.done}/${p.total}`} ${p.unit}`;
  if (p.bytes > 0 || p.totalBytes !== undefined) s += `, ${bytes(p.bytes)}${p.totalBytes === undefined ? '' : `/${bytes(p.totalBytes)}`}`;
  return s;
}

/** The fraction done, when a total is known: bytes against their total first, else units. */
function fraction(p: Snapshot): number | undefined {
  if (p.totalBytes !== undefined) return p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 1;
  if (p.total !== undefined) return p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  return undefined;
}

/** A copy of the fields of a Progress (numbers and constant strings: no allocation per update). */
interface Snapshot extends Progress {
  /** When the phase started (ms). */
  since: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The progress of command `label` (`commit`, `pkg add`, ...) as `progressMode`
 * decides, plus, under `-v`, one detail line as each phase ends with its
 * counts and time (`commit: reading done: 120 files, 1.2 MiB in 0.31 s`).
 */
export function meter(flags: MeterFlags, label: string, opts: { json?: boolean } = {}): Meter {
  const mode = progressMode(flags, opts);
  const verbose = verbosity() > 0;
  const stderr = io().stderr;
  const cur: Snapshot = { phase: '', done: 0, unit: '', bytes: 0, total: undefined, totalBytes: undefined, since: 0 };
  let seen = false;
  let lastLine = 0;
  let lastFeed = 0;
  let bar: SingleBar | undefined;
  let running = false;

  const line = (p: Snapshot, final: boolean): string =>
    final ? `${label}: ${p.phase} done: ${counts(p)} in ${seconds(Date.now() - p.since)}` : `${label}: ${p.phase} ${counts(p)}${pct(p)}`;
  const pct = (p: Snapshot) => {
    const f = fraction(p);
    return f === undefined ? '' : ` (${Math.floor(f * 100)}%)`;
  };
  /** The end of a phase: its final line on a pipe or under -v. */
  const phaseDone = () => {
    if (!seen) return;
    if (mode === 'lines' || verbose) {
      pauseBar();
      stderr.write(`${line(cur, true)}\n`);
    }
  };
  const pauseBar = () => {
    if (running) bar!.stop();
    running = false;
  };
  /**
   * `pull: objects [####----] 120/400 objects | 1.2 MiB | 3.4 MiB/s | ETA 5s`; with a byte total,
   * bytes against it first (`delta [##--] 1.2 MiB/4.0 MiB (120 objects) | ...`); without any total,
   * no bar and no ETA (`commit: reading 1234 files | 56.7 MiB | 12.3 MiB/s`).
   */
  const barLine = (): string => {
    const f = fraction(cur);
    const width = 24;
    const drawn = f === undefined ? '' : ` [${'#'.repeat(Math.round(f * width)).padEnd(width, '-')}]`;
    const units = `${cur.total === undefined ? cur.done : `${cur.done}/${cur.total}`} ${cur.unit}`;
    const done = cur.totalBytes === undefined ? units : `${bytes(cur.bytes)}/${bytes(cur.totalBytes)} (${units})`;
    const secs = Math.max(0.001, (Date.now() - cur.since) / 1000);
    const eta = f === undefined || f === 0 ? '' : ` | ETA ${Math.round((secs * (1 - f)) / f)}s`;
    return `${label}: ${cur.phase}${drawn} ${done} | ${bytes(cur.bytes)} | ${bytes(cur.bytes / secs)}/s${eta}`;
  };
  const feedBar = (now: number) => {
    bar ??= new SingleBar({
      format: barLine,
      hideCursor: true,
      clearOnComplete: true,
      fps: 8,
      stream: stderr as NodeJS.WriteStream,
    });
    lastFeed = now;
    const value = Math.round((fraction(cur) ?? 0) * 1000);
    if (!running) {
      bar.start(1000, value);
      running = true;
    } else bar.update(value);
  };

  const update: OnProgress = (p) => {
    if (p.phase !== cur.phase || p.unit !== cur.unit) {
      phaseDone();
      cur.phase = p.phase;
      cur.unit = p.unit;
      cur.since = Date.now();
      lastLine = cur.since;
    }
    seen = true;
    cur.done = p.done;
    cur.total = p.total;
    cur.bytes = p.bytes;
    cur.totalBytes = p.totalBytes;
    if (mode === 'off') return;
    const now = Date.now();
    if (mode === 'lines') {
      if (now - lastLine >= LINE_EVERY_MS) {
        lastLine = now;
        stderr.write(`${line(cur, false)}\n`);
      }
    } else if (!running || now - lastFeed >= BAR_EVERY_MS) feedBar(now);
  };

  // One object for the pull's progress, refilled at each update.
  const pulled: Progress = { phase: '', done: 0, unit: 'objects', bytes: 0 };
  const onPull = (p: PullProgress) => {
    pulled.phase = p.phase;
    pulled.done = p.objects;
    pulled.total = p.phase === 'objects' ? p.wanted : undefined;
    pulled.bytes = p.bytes;
    pulled.totalBytes = p.totalBytes;
    update(pulled);
  };

  const active = mode !== 'off' || verbose;
  return {
    onProgress: active ? update : undefined,
    onPull: active ? onPull : undefined,
    log(text) {
      pauseBar();
      stderr.write(`${text}\n`);
    },
    stop(failed = false) {
      if (!failed) phaseDone();
      pauseBar();
      seen = false;
      cur.phase = '';
    },
  };
}

/**
 * Runs `fn` with the meter of command `label`, and stops it however `fn`
 * ends (so an error is printed after the bar is cleared).
 */
export async function withMeter<T>(flags: MeterFlags, label: string, fn: (m: Meter) => Promise<T>, opts: { json?: boolean } = {}): Promise<T> {
  const m = meter(flags, label, opts);
  let result: T;
  try {
    result = await fn(m);
  } catch (err) {
    m.stop(true);
    throw err;
  }
  m.stop();
  return result;
}
