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
