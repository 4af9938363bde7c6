import { FatalRunError } from '#lib/domain/errors.ts';

/**
 * Ortto bans the caller's IP for 15 s after 15 bad (or bad-credential) requests within 15 s, and a
 * ban stops every connection sending from that address. Five in a row already means something is
 * wrong with the run (a key, a field, the data), not with one request; and bad requests with
 * successes between them still add up in Ortto's window, so that is bounded too, below 15.
 */
export const BAD_REQUEST_DEFAULTS = { consecutive: 5, inWindow: 10, windowMs: 15_000 } as const;
/** Ortto's ban threshold: a guard must stop below it. */
const ORTTO_BAN_THRESHOLD = 15;

export interface BadRequestGuardOptions {
  /** Bad answers in a row that stop the client; default 5. */
  consecutive?: number;
  /** Bad answers within `windowMs` that stop the client, successes or not between them; default 10. */
  inWindow?: number;
  /** Default 15 s, Ortto's window. */
  windowMs?: number;
  /** Monotonic ms; default performance.now. */
  clock?: () => number;
}

/** What Ortto's limiter counts: the caller's mistakes (4xx), not throttling (429). */
const isBad = (status: number): boolean => status >= 400 && status < 500 && status !== 429;
const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * Stops a client before Ortto bans its address: once `consecutive` bad answers came in a row, or
 * `inWindow` within the window, every further request is refused before it is sent (FatalRunError).
 * A success resets the run in a row; 429s, 5xx and lost answers count for neither. One guard per
 * client by default; clients sending from one address may share one, since they share the ban.
 */
export class BadRequestGuard {
  readonly consecutiveLimit: number;
  readonly windowLimit: number;
  private readonly windowMs: number;
  private readonly clock: () => number;
  private consecutive = 0;
  private recent: number[] = [];
  private lastStatus = 0;

  constructor(options: BadRequestGuardOptions = {}) {
    this.consecutiveLimit = options.consecutive ?? BAD_REQUEST_DEFAULTS.consecutive;
    this.windowLimit = options.inWindow ?? BAD_REQUEST_DEFAULTS.inWindow;
    this.windowMs = options.windowMs ?? BAD_REQUEST_DEFAULTS.windowMs;
    this.clock = options.clock ?? (() => performance.now());
    const below = ORTTO_BAN_THRESHOLD - 1;
    if (!Number.isInteger(this.windowLimit) || this.windowLimit < 1 || this.windowLimit > below)
      throw new RangeError(`inWindow must be a whole number from 1 to ${below}, got ${this.windowLimit}`);
    if (
      !Number.isInteger(this.consecutiveLimit) ||
      this.consecutiveLimit < 1 ||
      this.consecutiveLimit > this.windowLimit
    )
      throw new RangeError(
        `consecutive must be a whole number from 1 to inWindow, got ${this.consecutiveLimit}`,
      );
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
  }

  /** Throws FatalRunError when a limit has been reached: the request must not go out. */
  check(): void {
    const inWindow = this.inWindow();
    if (this.consecutive < this.consecutiveLimit && inWindow < this.windowLimit) return;
    const what =
      this.consecutive >= this.consecutiveLimit
        ? `${this.consecutive} bad requests in a row`
        : `${inWindow} bad requests within ${this.windowMs / 1000} s`;
    throw new FatalRunError(
      `Ortto answered ${what} (the last ${this.lastStatus}); stopped before Ortto blocks this address ` +
        `(${ORTTO_BAN_THRESHOLD} bad requests within 15 s)`,
      'configuration',
    );
  }

  record(status: number): void {
    if (isSuccess(status)) this.consecutive = 0;
    else if (isBad(status)) {
      this.consecutive += 1;
      this.lastStatus = status;
      this.recent.push(this.clock());
    }
  }

  private inWindow(): number {
    const since = this.clock() - this.windowMs;
    if (this.recent.length > 0 && (this.recent[0] ?? 0) <= since)
      this.recent = this.recent.filter((t) => t > since);
    return this.recent.length;
  }
}
