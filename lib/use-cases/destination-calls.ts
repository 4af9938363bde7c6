import type { DestinationAddress } from '#lib/domain/connection.ts';
import { MAX_RETRY_AFTER_MS, TransientError } from '#lib/domain/errors.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { DestinationSession, Destinations, RequestHooks } from '#lib/ports/destination.ts';
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
  destinations: Destinations;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  clock: Clock;
  settings: { maxAttempts: number; baseDelayMs: number };
}

export interface ConnectionAccess {
  session: DestinationSession;
  /** Runs one destination call under the retry policy. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** How many requests one delivery may have in flight now ({@link inFlightLimit}, at the latency seen so far). */
  inFlight: () => number;
  /**
   * Sends nothing more: a request still waiting for its slot throws {@link RequestsHalted} instead
   * of going out (a delivery stopped by one failure must not send a 401 per request in flight).
   */
  halt: () => void;
}

/** A request given up before it was sent, because its delivery had already stopped. */
export class RequestsHalted extends Error {
  override readonly name = 'RequestsHalted';
  constructor() {
    super('The delivery stopped before this request was sent');
  }
}

/** Assumed until a session has seen an answer: the slow end of Autopilot's usual 250–400 ms. */
export const ASSUMED_LATENCY_MS = 400;
/** A delivery's requests in flight at most: more than a 25-contact batch never helps, and sockets cost. */
export const MAX_IN_FLIGHT = 16;
/** Weight of the newest answer in the latency estimate (exponential moving average). */
const LATENCY_WEIGHT = 0.2;

/**
 * Requests one delivery keeps in flight so that one sender alone fills its budget: a request
 * occupies its place for its latency, so `rate × latency` requests are answered per second of
 * budget; one more is already waiting on its slot when a slot comes, which also covers the work
 * around a request (the budget's hold read, the run watch) up to one interval. No more than that:
 * every request on the wire when a key is revoked comes back 401. Each
 * still takes its own slot from the shared budget, so this never raises the rate, only stops a
 * sender from idling between its slots. Bounded to 1…MAX_IN_FLIGHT (a budget above
 * MAX_IN_FLIGHT ÷ latency needs more than one sender).
 */
export const inFlightLimit = (ratePerSecond: number, latencyMs: number): number => {
  const limit = Math.ceil((ratePerSecond * Math.max(0, latencyMs)) / 1000) + 1;
  return Number.isFinite(limit) ? Math.max(1, Math.min(MAX_IN_FLIGHT, limit)) : 1;
};

/**
 * A session on a connection whose every request waits for the connection's shared rate budget —
 * never past the invocation's remaining time minus `reserveMs` (SlotTooLateError instead) — and is
 * counted in `tally`, with `call` applying the retry policy (see `withRetries`). `beforeEachRequest`
 * runs first and may throw to stop the work (a sender re-checking its run while it sends).
 */
export const accessConnection = async (
  deps: ConnectionAccessDeps,
  connection: { id: string; ratePerSecond: number } & DestinationAddress,
  tally: RequestTally,
  timing: {
    remainingMs: () => number;
    reserveMs: number;
    /** Requests the session expects to make (a batch's contacts): the budget reserves for the rest. */
    expectedRequests?: number;
  },
  beforeEachRequest?: () => Promise<void>,
): Promise<ConnectionAccess> => {
  const apiKey = await deps.secrets.getApiKey(connection.id);
  let latencyMs: number | undefined;
  let halted = false;
  let acquired = 0;
  const hooks: RequestHooks = {
    beforeRequest: async () => {
      if (halted) throw new RequestsHalted();
      await beforeEachRequest?.();
      const notAfter = deps.clock.now() + timing.remainingMs() - timing.reserveMs;
      const ahead = Math.max(0, (timing.expectedRequests ?? 0) - ++acquired);
      await deps.rateBudget.acquire(connection.id, connection.ratePerSecond, { notAfter, ahead });
      if (halted) throw new RequestsHalted();
    },
    afterResponse: (kind, status, elapsedMs) => {
      tally.record(kind, status);
      // Only answers: a request that got none may have waited for its whole timeout.
      if (status > 0 && Number.isFinite(elapsedMs))
        latencyMs =
          latencyMs === undefined ? elapsedMs : latencyMs + LATENCY_WEIGHT * (elapsedMs - latencyMs);
    },
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
  return {
    session: deps.destinations.for(connection).open(apiKey, hooks),
    call: (fn) => withRetries(policy, fn),
    inFlight: () => inFlightLimit(connection.ratePerSecond, latencyMs ?? ASSUMED_LATENCY_MS),
    halt: () => {
      halted = true;
    },
  };
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
