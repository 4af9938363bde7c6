/**
 * A request-rate budget shared by every concurrent sender of one connection, so that together
 * they stay under `ratePerSecond`.
 *
 * Slots are taken from one shared timeline in reservations of {@link slotsPerReservation}
 * consecutive slots (one write of shared state each); the instance that reserved them hands them to
 * its own acquirers. A reserved slot is spent at its time or, when every acquirer was busy, up to one
 * interval late; an older one is lost, as are slots still reserved when the work runs out (never
 * returned: giving a block back would cost the write it saved, and only works while nobody reserved
 * after it). Reservations never overlap, so the slots granted to all senders together never exceed
 * the budget over any window.
 */
export interface RateBudget {
  /**
   * Waits until one request may be sent. With `notAfter` (epoch ms), never waits past it: when the
   * next slot starts later, throws {@link SlotTooLateError} at once (the caller hands its work back
   * rather than sleeping past its own deadline); the slot stays reserved for a later acquire.
   * A slot that a {@link backOff} now covers is never granted, even when it was reserved before.
   */
  acquire(connectionId: string, ratePerSecond: number, options?: { notAfter?: number }): Promise<void>;
  /**
   * The destination answered 429: hold every sender of this connection back for `ms`. Slots any
   * sender reserved before it and that fall inside the hold are void.
   */
  backOff(connectionId: string, ms: number): Promise<void>;
}

/** The longest span one reservation covers: short enough that a lost tail is cheap. */
export const RESERVATION_MS = 800;
/** At most this many slots per reservation, so a sender at a high budget cannot hoard a long run. */
export const MAX_SLOTS_PER_RESERVATION = 20;

/**
 * Slots reserved per shared write: ~0.8 s of budget (4 at Autopilot's 5 requests/s, so a quarter
 * of a write per request), at least 1 and at most {@link MAX_SLOTS_PER_RESERVATION}.
 */
export const slotsPerReservation = (ratePerSecond: number): number =>
  Math.max(1, Math.min(MAX_SLOTS_PER_RESERVATION, Math.round((ratePerSecond * RESERVATION_MS) / 1000)));

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
