/**
 * A request-rate budget shared by every concurrent sender of one connection, so that together
 * they stay under `ratePerSecond`.
 */
export interface RateBudget {
  /** Waits until one request may be sent. */
  acquire(connectionId: string, ratePerSecond: number): Promise<void>;
  /** The destination answered 429: hold every sender of this connection back for `ms`. */
  backOff(connectionId: string, ms: number): Promise<void>;
}
