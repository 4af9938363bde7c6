import { describe, expect, it } from 'vitest';
import { TransientError } from '#lib/domain/errors.ts';
import { ThrottledTooLongError, throttleBackOffMs, withRetries } from '#lib/use-cases/destination-calls.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';

const setup = (remaining = 60_000) => {
  const clock = new FakeClock();
  const rateBudget = new InMemoryRateBudget(clock);
  const policy = {
    clock,
    rateBudget,
    connectionId: 'c1',
    maxAttempts: 3,
    baseDelayMs: 100,
    ratePerSecond: 5,
    remainingMs: () => remaining,
    reserveMs: 1_000,
  };
  return { clock, rateBudget, policy };
};

const failing = (errors: Error[]) => {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fn: async () => {
      const e = errors[calls++];
      if (e) throw e;
      return 'ok';
    },
  };
};

const throttled = () => new TransientError('429', { status: 429, rateLimited: true });
const unavailable = () => new TransientError('503', { status: 503 });

describe('withRetries', () => {
  it('retries 429s without using up attempts, backing every sender off', async () => {
    const { policy, clock } = setup();
    const call = failing([throttled(), throttled(), throttled(), throttled(), throttled()]);
    const started = clock.now();
    await expect(withRetries(policy, call.fn)).resolves.toBe('ok');
    expect(call.calls).toBe(6);
    // The back-off moved the shared budget forward: the next slot is at least 1 s away.
    await policy.rateBudget.acquire('c1', 5);
    expect(clock.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up on other transient failures after the attempt limit', async () => {
    const { policy } = setup();
    const call = failing([unavailable(), unavailable(), unavailable(), unavailable()]);
    await expect(withRetries(policy, call.fn)).rejects.toThrow('503');
    expect(call.calls).toBe(3);
  });

  it('hands the work back when throttling outlasts the invocation', async () => {
    const { policy } = setup(500);
    await expect(withRetries(policy, failing([throttled()]).fn)).rejects.toBeInstanceOf(
      ThrottledTooLongError,
    );
  });

  it('honours Retry-After when the destination sends one', async () => {
    const { policy, clock } = setup();
    const started = clock.now();
    await withRetries(
      policy,
      failing([new TransientError('429', { rateLimited: true, retryAfterMs: 7_000 })]).fn,
    );
    await policy.rateBudget.acquire('c1', 5);
    expect(clock.now() - started).toBeGreaterThanOrEqual(7_000);
  });

  it('backs off a few slots of the budget: 1 s at 5/s, never under 200 ms or over 2 s', () => {
    expect(throttleBackOffMs(5)).toBe(1_000);
    expect(throttleBackOffMs(100)).toBe(200);
    expect(throttleBackOffMs(1)).toBe(2_000);
  });

  it('does not retry permanent errors', async () => {
    const { policy } = setup();
    const call = failing([new Error('400 bad request')]);
    await expect(withRetries(policy, call.fn)).rejects.toThrow('400');
    expect(call.calls).toBe(1);
  });
});
