import type { RateBudget } from '#lib/ports/rate-budget.ts';

/** A sender waits for its batch's first slot at most this long, or two intervals of a slow budget. */
export const USEFUL_WAIT_MS = 1_000;

/** The longest delay SQS allows on a message. */
const MAX_DELAY_SECONDS = 900;

/**
 * How far away the next free slot may be for a sender to start a batch and wait for it. A sender
 * that just finished a batch leaves at most one reservation (~0.8 s, `RESERVATION_MS`; one
 * interval at a budget below 1.25/s) booked ahead of itself, so a budget booked further than this
 * is being kept busy by others — several senders taking turns, or a 429 hold. Waiting there adds
 * a billed sender without adding a request: the budget is already spent.
 */
export const usefulWaitMs = (ratePerSecond: number): number =>
  Math.max(USEFUL_WAIT_MS, 2 * (1000 / ratePerSecond));

/** The budget is booked past what a sender could usefully wait for: when its next free slot starts. */
export interface BudgetBusy {
  slotAt: number;
}

/**
 * Looks (one read, no write) at the connection's budget before a batch's first request; answers
 * when it is booked too far ahead to be worth waiting for.
 */
export const budgetBusy = async (
  budget: Pick<RateBudget, 'nextFreeSlot'>,
  connection: { id: string; ratePerSecond: number },
  now: () => number,
): Promise<BudgetBusy | undefined> => {
  const slotAt = await budget.nextFreeSlot(connection.id);
  return slotAt - now() > usefulWaitMs(connection.ratePerSecond) ? { slotAt } : undefined;
};

/**
 * The hand-back delay for a busy budget: until its next free slot (a 429 hold of a minute is not
 * worth polling every second), never less than the usual requeue delay and never more than SQS allows.
 */
export const busyDelaySeconds = (slotAt: number, now: number, requeueDelaySeconds: number): number =>
  Math.min(MAX_DELAY_SECONDS, Math.max(requeueDelaySeconds, Math.ceil((slotAt - now) / 1000)));
