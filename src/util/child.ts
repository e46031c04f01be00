import { createRequire } from 'node:module';

let loaded: typeof import('node:child_process') | undefined;

/**
 * node:child_process, loaded on first use: the modules every command loads
 * (the mount table, atomic writes) start a program only now and then, and
 * loading it cost each short command a few milliseconds.
 */
export function childProcess(): typeof import('node:child_process') {
  loaded ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return loaded;
}

let threads: typeof import('node:worker_threads') | undefined;

/**
 * node:worker_threads, loaded on first use, for the same reason: the
 * modules that start a thread (a checkout's linker, a commit's writers) are
 * loaded by `switch`, which starts none, and loading it cost 2 ms.
 */
export function workerThreads(): typeof import('node:worker_threads') {
  threads ??= createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  return threads;
}
