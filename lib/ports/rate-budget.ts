/**
 * A request-rate budget shared by every concurrent sender of one connection, so that together
 * they stay under `ratePerSecond`.
 */
export interface RateBudget {
  /**
   * Waits until one request may be sent. With `notAfter` (epoch ms), never waits past it: when the
   * next slot starts later, throws {@link SlotTooLateError} at once (the caller hands its work back
   * rather than sleeping past its own deadline).
   */
  acquire(connectionId: string, ratePerSecond: number, options?: { notAfter?: number }): Promise<void>;
  /** The destination answered 429: hold every sender of this connection back for `ms`. */
  backOff(connectionId: string, ms: number): Promise<void>;
}

/** The budget's next slot for this caller starts after the caller's deadline. */
export class SlotTooLateError extends Error {
  override readonly name = 'SlotTooLateError';
  constructor(
    readonly connectionId: string,
    readonly slotAt: number,
  ) {
    super(`The next request slot of connection ${connectionId} starts after this invocation's deadline`);
  }
}
