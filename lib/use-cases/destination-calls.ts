import { MAX_RETRY_AFTER_MS, TransientError } from '#lib/domain/errors.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Destination, DestinationSession, RequestHooks } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';

/** Counts every request a session makes, by kind, and how many were answered 429. */
export class RequestTally {
  readonly requests: Record<string, number> = {};
  throttled = 0;

  record(kind: string, status: number): void {
    this.requests[kind] = (this.requests[kind] ?? 0) + 1;
    if (status === 429) this.throttled++;
  }

  get total(): number {
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** The requests counted after `before` (an earlier copy of this tally's counts). */
  since(before: { requests: Record<string, number>; throttled: number }): RequestTally {
    const later = new RequestTally();
    for (const [kind, n] of Object.entries(this.requests)) {
      const more = n - (before.requests[kind] ?? 0);
      if (more > 0) later.requests[kind] = more;
    }
    later.throttled = this.throttled - before.throttled;
    return later;
  }
}

export interface ConnectionAccessDeps {
  destination: Destination;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  clock: Clock;
  settings: { maxAttempts: number; baseDelayMs: number };
}

export interface ConnectionAccess {
  session: DestinationSession;
  /** Runs one destination call under the retry policy. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * A session on a connection whose every request waits for the connection's shared rate budget —
 * never past the invocation's remaining time minus `reserveMs` (SlotTooLateError instead) — and is
 * counted in `tally`, with `call` applying the retry policy (see `withRetries`). `beforeEachRequest`
 * runs first and may throw to stop the work (a sender re-checking its run while it sends).
 */
export const accessConnection = async (
  deps: ConnectionAccessDeps,
  connection: { id: string; ratePerSecond: number },
  tally: RequestTally,
  timing: { remainingMs: () => number; reserveMs: number },
  beforeEachRequest?: () => Promise<void>,
): Promise<ConnectionAccess> => {
  const apiKey = await deps.secrets.getApiKey(connection.id);
  const hooks: RequestHooks = {
    beforeRequest: async () => {
      await beforeEachRequest?.();
      const notAfter = deps.clock.now() + timing.remainingMs() - timing.reserveMs;
      await deps.rateBudget.acquire(connection.id, connection.ratePerSecond, { notAfter });
    },
    afterResponse: (kind, status) => tally.record(kind, status),
    // Half the reserve stays free after any request, to record what was done and hand the rest back.
    timeLeftMs: () => timing.remainingMs() - timing.reserveMs / 2,
  };
  const policy: RetryPolicy = {
    clock: deps.clock,
    rateBudget: deps.rateBudget,
    connectionId: connection.id,
    maxAttempts: deps.settings.maxAttempts,
    baseDelayMs: deps.settings.baseDelayMs,
    ratePerSecond: connection.ratePerSecond,
    ...timing,
  };
  return { session: deps.destination.open(apiKey, hooks), call: (fn) => withRetries(policy, fn) };
};

/** Raised when rate limiting lasted so long that the remaining invocation time is too short. */
export class ThrottledTooLongError extends Error {
  override readonly name = 'ThrottledTooLongError';
}

/**
 * In-call retries stay short: three attempts, 250 ms apart and doubling, fit well inside a batch's
 * lease. Anything longer is the queue's job (the batch is handed back and redelivered).
 */
export const DEFAULT_RETRY = { maxAttempts: 3, baseDelayMs: 250 } as const;

export interface RetryPolicy {
  clock: Clock;
  rateBudget: RateBudget;
  connectionId: string;
  /** Attempts for transient failures other than 429 (a 429 never uses one up). */
  maxAttempts: number;
  baseDelayMs: number;
  /** The connection's budget; a 429 without Retry-After holds every sender back for a few slots of it. */
  ratePerSecond: number;
  /** Time left in this invocation; below `reserveMs` we stop waiting and hand the work back. */
  remainingMs: () => number;
  reserveMs: number;
}

/**
 * How long one 429 holds every sender of a connection back: five slots of its budget, between 200 ms
 * and 2 s (1 s at Autopilot's 5 requests/s). Longer wastes budget at high rates; shorter risks a
 * second 429 from the same window.
 */
export const throttleBackOffMs = (ratePerSecond: number): number =>
  Math.min(2_000, Math.max(200, 5_000 / ratePerSecond));

/**
 * Calls the destination, retrying transient failures a few times with jittered exponential backoff.
 * A 429 backs every sender off through the shared budget (Retry-After capped at one minute) and is
 * retried without using an attempt; if rate limiting outlasts the invocation, ThrottledTooLongError
 * hands the work back intact. No wait ever runs past the remaining time minus the reserve.
 */
export const withRetries = async <T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> => {
  let attempts = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      const spare = policy.remainingMs() - policy.reserveMs;
      if (error.details.rateLimited) {
        const asked = error.details.retryAfterMs ?? throttleBackOffMs(policy.ratePerSecond);
        const wait = Math.min(
          MAX_RETRY_AFTER_MS,
          Math.max(0, Number.isFinite(asked) ? asked : MAX_RETRY_AFTER_MS),
        );
        await policy.rateBudget.backOff(policy.connectionId, wait);
        if (spare < wait) throw new ThrottledTooLongError(error.message);
        continue;
      }
      attempts++;
      const delay = policy.baseDelayMs * 2 ** (attempts - 1);
      if (attempts >= policy.maxAttempts || spare < delay) throw error;
      await policy.clock.sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
};
