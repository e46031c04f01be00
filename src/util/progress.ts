/**
 * What a long operation (commit, checkout, fsck, gc, delta, pkg add) reports
 * while it runs. The operation keeps one object, updates it in place and
 * passes that same object to `onProgress` as it changes, often once per file
 * or object: a listener reads it at once and keeps no reference; it draws at
 * its own pace (the CLI redraws a few times a second).
 */
export interface Progress {
  /** What is being done now, one word: `reading`, `checking`, `marking`, `deleting`, ... */
  phase: string;
  /** Units done in this phase. */
  done: number;
  /** Units this phase will do, when known before it starts. */
  total?: number;
  /** What a unit is: `files`, `objects`, `packages`. */
  unit: string;
  /** Bytes done (read, written, hashed or freed, as the phase says). */
  bytes: number;
  /** Bytes this phase will do, when known. */
  totalBytes?: number;
}

export type OnProgress = (p: Progress) => void;

/** A fresh progress object for a phase. */
export function progressOf(phase: string, unit: string, total?: number, totalBytes?: number): Progress {
  return { phase, done: 0, total, unit, bytes: 0, totalBytes };
}
