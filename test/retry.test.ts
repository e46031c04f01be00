import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, retryableStatus, toTransferError, TransferError, withRetries } from '../src/remote/retry.js';

describe('retry policy', () => {
  it('retries server errors, timeouts and rate limits, not client errors', () => {
    for (const s of [500, 502, 503, 504, 599, 408, 429]) expect(retryableStatus(s), String(s)).toBe(true);
    for (const s of [400, 401, 403, 405, 416, 451]) expect(retryableStatus(s), String(s)).toBe(false);
  });

  it('sorts thrown things: transfer errors as they are, other trove errors final, anything else a retryable E_IO', () => {
    const t = new TransferError('E_CORRUPT', 'x', true);
    expect(toTransferError(t, 'w')).toBe(t);
    const bad = toTransferError(new TroveError('E_BAD_OBJECT', 'bad framing'), 'w');
    expect(bad).toMatchObject({ code: 'E_BAD_OBJECT', retryable: false, message: 'bad framing' });
    const reset = toTransferError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'http://h/x');
    expect(reset).toMatchObject({ code: 'E_IO', retryable: true, message: 'http://h/x: ECONNRESET: socket hang up' });
  });

  it('backs off from a floor of 100, 200, 400 ms, doubling up to the maximum, with up to as much again of jitter', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect([0, 1, 2, 3].map((n) => backoffMs(p, n, () => 0))).toEqual([100, 200, 400, 800]);
    expect([0, 1, 2].map((n) => backoffMs(p, n, () => 1))).toEqual([200, 400, 800]);
    expect(backoffMs(p, 20, () => 0)).toBe(2500);
    expect(backoffMs(p, 20, () => 1)).toBe(5000);
    expect(p).toEqual({ retries: 5, delayMs: 200, maxDelayMs: 5000 });
  });

  const fast = { policy: DEFAULT_RETRY_POLICY, where: 'w', wait: async () => {} };

  it('retries a retryable failure until it succeeds, counting attempts and retries', async () => {
    let attempts = 0;
    let retries = 0;
    const waits: number[] = [];
    let calls = 0;
    const r = await withRetries(
      async () => {
        if (++calls < 4) throw new TransferError('E_IO', 'flaky', true);
        return 'ok';
      },
      { ...fast, onAttempt: () => attempts++, onRetry: () => retries++, wait: async (ms) => void waits.push(ms), random: () => 0 },
    );
    expect(r).toBe('ok');
    expect(calls).toBe(4);
    expect(attempts).toBe(4);
    expect(retries).toBe(3);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('tries a request that ran past its deadline once more at most, whatever the retries; a full disk and an oversized body not at all', async () => {
    let attempts = 0;
    const p = withRetries(
      async () => {
        attempts++;
        throw new TransferError('E_IO', 'slow', true, { deadline: true });
      },
      { ...fast, retries: 5 },
    );
    await expect(p).rejects.toMatchObject({ code: 'E_IO', message: 'slow (after 2 attempts)', deadline: true });
    expect(attempts).toBe(2);
    // Other failures in between do not use up the deadline's one retry.
    attempts = 0;
    const mixed = withRetries(
      async () => {
        attempts++;
        throw new TransferError('E_IO', attempts === 2 ? 'slow' : 'reset', true, { deadline: attempts === 2 });
      },
      { ...fast, retries: 3 },
    );
    await expect(mixed).rejects.toMatchObject({ message: 'reset (after 4 attempts)' });
    const full = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    expect(toTransferError(full, 'http://x/o')).toMatchObject({ code: 'E_IO', retryable: false });
  });

  it('gives up after the retries, saying how many attempts were made', async () => {
    let attempts = 0;
    const p = withRetries(
      async () => {
        attempts++;
        throw new TransferError('E_IO', 'down', true);
      },
      { ...fast, retries: 2 },
    );
    await expect(p).rejects.toMatchObject({ code: 'E_IO', message: 'down (after 3 attempts)' });
    expect(attempts).toBe(3);
  });

  it('never retries more than the policy allows, and not at all for a final error', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw new Error('boom');
        },
        { ...fast, policy: { ...DEFAULT_RETRY_POLICY, retries: 1 }, retries: 10 },
      ),
    ).rejects.toMatchObject({ code: 'E_IO', message: 'w: Error: boom (after 2 attempts)' });
    expect(attempts).toBe(2);
    attempts = 0;
    await expect(
      withRetries(async () => {
        attempts++;
        throw new TroveError('E_CORRUPT', 'bad');
      }, fast),
    ).rejects.toMatchObject({ code: 'E_CORRUPT', message: 'bad', retryable: false });
    expect(attempts).toBe(1);
  });

  it('stops with the signal reason once aborted', async () => {
    const ctl = new AbortController();
    const reason = new Error('cancelled');
    let attempts = 0;
    const p = withRetries(
      async () => {
        attempts++;
        ctl.abort(reason);
        throw new TransferError('E_IO', 'x', true);
      },
      { ...fast, signal: ctl.signal },
    );
    await expect(p).rejects.toBe(reason);
    expect(attempts).toBe(1);
    await expect(withRetries(async () => 1, { ...fast, signal: ctl.signal })).rejects.toBe(reason);
  });

  it('waits with the real timer by default, which the signal cancels', async () => {
    const ctl = new AbortController();
    const started = Date.now();
    const p = withRetries(
      async () => {
        setTimeout(() => ctl.abort(new Error('stop')), 20);
        throw new TransferError('E_IO', 'x', true);
      },
      { policy: { retries: 5, delayMs: 60_000, maxDelayMs: 60_000 }, where: 'w', signal: ctl.signal },
    );
    await expect(p).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
