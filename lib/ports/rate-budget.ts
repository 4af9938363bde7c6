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
  acquire(connectionId: string, ratePerSecond: number, options?: AcquireOptions): Promise<void>;
  /**
   * The destination answered 429: hold every sender of this connection back for `ms`. Slots any
   * sender reserved before it and that fall inside the hold are void.
   */
  backOff(connectionId: string, ms: number): Promise<void>;
}

export interface AcquireOptions {
  /** Epoch ms: never wait past it (see {@link RateBudget.acquire}). */
  notAfter?: number;
  /**
   * Requests the caller will ask for right after this one (the rest of its batch). A reservation
   * made for it may then cover up to {@link LEASE_MS} of budget: the slots are used, not lost, so
   * the writes per request fall (a 100-contact list batch at 5/s: 1/20 rather than 1/4).
   */
  ahead?: number;
}

/** The longest span one reservation covers for work of unknown length: a lost tail stays cheap. */
export const RESERVATION_MS = 800;
/** The longest span one reservation covers for a caller with that much work {@link AcquireOptions.ahead}. */
export const LEASE_MS = 4_000;
/** At most this many slots per reservation, so a sender at a high budget cannot hoard a long run. */
export const MAX_SLOTS_PER_RESERVATION = 20;

/**
 * Slots reserved per shared write: ~0.8 s of budget (4 at Autopilot's 5 requests/s, so a quarter
 * of a write per request); for a caller with `ahead` more requests to make, as many as it will
 * spend up to {@link LEASE_MS} of budget (20 at 5/s); at least 1 and at most
 * {@link MAX_SLOTS_PER_RESERVATION}. Other senders of the connection wait behind a longer block,
 * as behind any other: blocks never overlap, so together they still never exceed the budget.
 */
export const slotsPerReservation = (ratePerSecond: number, ahead = 0): number => {
  const span = (ms: number): number => Math.round((ratePerSecond * ms) / 1000);
  const lease = Math.min(span(LEASE_MS), Math.floor(Math.max(0, ahead)) + 1);
  return Math.max(1, Math.min(MAX_SLOTS_PER_RESERVATION, Math.max(span(RESERVATION_MS), lease)));
};

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
