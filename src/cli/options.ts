import type { Command } from 'commander';
import { DEFAULT_CONNECTIONS, DEFAULT_PIPELINING, type TransportInit } from '../remote/transport.js';
import { usage } from '../util/errors.js';

/** An integer option's value, at least `min`; a usage error naming the option otherwise. */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usage(`${name} must be an integer >= ${min}`);
  return n;
}

/** The flags `networkOptions` declares, as commander hands them to an action. */
export interface NetworkFlags {
  jobs: string;
  retries: string;
  timeout: string;
  pipelining: string;
  /** False with --no-deltas, where `networkOptions` was asked for it. */
  deltas?: boolean;
}

/**
 * Declares the options of a command that fetches from servers, with one wording and one
 * default everywhere: -j/--jobs, --pipelining, --retries, --timeout, and where asked
 * --no-deltas. `transportOf` reads them back.
 */
export function networkOptions(cmd: Command, also: { deltas?: boolean } = {}): Command {
  cmd.option('-j, --jobs <n>', 'keep-alive connections to each server (as many more carry the small objects sent ahead)', String(DEFAULT_CONNECTIONS));
  cmd.option(
    '--pipelining <n>',
    'small objects requested ahead on each connection, without waiting for the answer before (HTTP/1.1 pipelining; 1: off)',
    String(DEFAULT_PIPELINING),
  );
  if (also.deltas) cmd.option('--no-deltas', 'never use delta packs');
  return cmd
    .option('--retries <n>', 'retries of a failed request, with exponential backoff', '5')
    .option('--timeout <ms>', 'deadline of each request, headers and whole body (longer for large objects)', '30000');
}

/** The transport settings `networkOptions`' flags give, each checked (a usage error naming the flag). */
export function transportOf(flags: NetworkFlags): Required<Pick<TransportInit, 'connections' | 'pipelining' | 'retries' | 'timeoutMs'>> {
  return {
    connections: intOption('--jobs', flags.jobs, 1),
    pipelining: intOption('--pipelining', flags.pipelining, 1),
    retries: intOption('--retries', flags.retries, 0),
    timeoutMs: intOption('--timeout', flags.timeout, 1),
  };
}
