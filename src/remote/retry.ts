import { setTimeout as sleep } from 'node:timers/promises';
import { type ErrorCode, type ErrorData, isTroveError, TroveError } from '../util/errors.js';

/**
 * The retry policy of transfers: which failures are tried again, how often,
 * and how long to wait in between. Nothing here knows about HTTP requests or
 * files; the transport asks.
 */

/** An error of one transfer; `retryable` says whether trying again may help. */
export class TransferError extends TroveError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; data?: ErrorData; deadline?: boolean },
  ) {
    super(code, message, options);
    this.deadline = options?.deadline === true;
  }

  /** The request ran past its overall deadline: retried at most once (see withRetries). */
  readonly deadline: boolean;
}

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  /** First backoff delay in ms, doubled each retry. */
  delayMs: number;
  /** Longest backoff delay in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 5, delayMs: 200, maxDelayMs: 5000 };

/** Whether an HTTP status other than 200, 404 and 410 may go better next time: server errors, timeouts, rate limits. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Anything thrown during a transfer, as a TransferError: TransferErrors as
 * they are; other TroveErrors (bad bytes, bad framing) are final; anything
 * else (a socket, stream or file error) is an E_IO worth retrying.
 */
export function toTransferError(err: unknown, where: string): TransferError {
  if (err instanceof TransferError) return err;
  if (isTroveError(err)) return new TransferError(err.code, err.message, false, { cause: err, data: err.data });
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? e.name ?? 'error';
  // A full disk does not empty itself between attempts.
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TransferError('E_IO', `no space left on the repository's filesystem while fetching ${where} (${code}); nothing half-written was kept`, false, { cause: err });
  }
  return new TransferError('E_IO', `${where}: ${code}: ${e.message}`, true, { cause: err });
}

/**
 * The wait before retry `n` (0 for the first retry): the delay doubles each
 * time up to the maximum, and a random half of it is jitter, so the floor is
 * half the delay (100, 200, 400 ms... with the default policy).
 */
export function backoffMs(policy: Pick<RetryPolicy, 'delayMs' | 'maxDelayMs'>, n: number, random: () => number = Math.random): number {
  const delay = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** n);
  return delay / 2 + random() * (delay / 2);
}

/** Options of `withRetries`; defaults as documented on each field. */
export interface RetryRun {
  policy: RetryPolicy;
  /** Retries for this call, at most the policy's (default: the policy's). */
  retries?: number;
  signal?: AbortSignal;
  /** What is being fetched, for error messages. */
  where: string;
  /** Called before every attempt. */
  onAttempt?: () => void;
  /** Called before the wait for a retry. */
  onRetry?: () => void;
  /** The wait (default: a timer that the signal cancels). */
  wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random?: () => number;
}

/** Attempts of one request that may run past their deadline: the first one and one retry. */
export const DEADLINE_ATTEMPTS = 2;

/**
 * Runs `attempt` until it succeeds, fails with an error that is not
 * retryable, or runs out of retries; waits `backoffMs` between attempts.
 * An attempt that ran past its deadline is retried once at most, so a
 * request that keeps trickling ends after DEADLINE_ATTEMPTS deadlines.
 * An aborted signal stops it with the signal's reason. The last error says
 * how many attempts were made.
 */
export async function withRetries<T>(attempt: () => Promise<T>, run: RetryRun): Promise<T> {
  const retries = Math.min(run.retries ?? run.policy.retries, run.policy.retries);
  const wait = run.wait ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  let deadlines = 0;
  for (let n = 0; ; n++) {
    if (run.signal?.aborted) throw run.signal.reason;
    try {
      run.onAttempt?.();
      return await attempt();
    } catch (err) {
      if (run.signal?.aborted) throw run.signal.reason;
      const e = toTransferError(err, run.where);
      if (e.deadline) deadlines++;
      if (!e.retryable || n >= retries || deadlines >= DEADLINE_ATTEMPTS) {
        if (n > 0) e.message += ` (after ${n + 1} attempts)`;
        throw e;
      }
      run.onRetry?.();
      await wait(backoffMs(run.policy, n, run.random), run.signal);
    }
  }
}
