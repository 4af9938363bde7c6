import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import { SlotTooLateError } from '#lib/ports/rate-budget.ts';
import { RequestsHalted, ThrottledTooLongError } from '../destination-calls.ts';
import { StopDelivery } from './watch.ts';

/**
 * Which failure of several in flight decides how the delivery ends: a cancel or a removed
 * connection first, then a refused key (the run fails), then anything unexpected (a defect must
 * not hide behind a transient error); the first of the rest (transient, out of time) otherwise.
 */
const weight = (error: unknown): number => {
  if (error instanceof RequestsHalted) return 4; // a consequence of the first failure, never its cause
  if (error instanceof StopDelivery) return 0;
  if (error instanceof FatalRunError) return 1;
  const expected =
    error instanceof TransientError ||
    error instanceof SlotTooLateError ||
    error instanceof ThrottledTooLongError;
  return expected ? 3 : 2;
};

/**
 * Sends one request per item with up to `limit()` of them in flight (read again before each
 * launch, so the window follows the observed latency), and pushes the results into `into` in item
 * order as soon as they form a contiguous prefix: the progress ticker and the batch's record count
 * only `into`, so a result never counts before every earlier one is known.
 *
 * The first failure stops launching and calls `halt` (requests still waiting for their slot are
 * not sent); the requests already in flight are awaited (they may have written), then the prefix before the first item without a result is kept and
 * everything after it is discarded: those items are sent again by a later delivery, which is
 * idempotent at the destination. The deciding failure is then thrown (see `weight`).
 */
export const sendPipelined = async <I>(
  items: readonly I[],
  send: (item: I, index: number) => Promise<ContactResult>,
  into: ContactResult[],
  limit: () => number,
  halt?: () => void,
): Promise<void> => {
  const results: Array<ContactResult | undefined> = new Array(items.length);
  let flushed = 0;
  let launched = 0;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  const flush = (): void => {
    for (; flushed < items.length; flushed++) {
      const result = results[flushed];
      if (result === undefined) return;
      into.push(result);
      results[flushed] = undefined;
    }
  };
  const fail = (error: unknown): void => {
    if (failure === undefined) halt?.();
    if (failure === undefined || weight(error) < weight(failure.error)) failure = { error };
  };
  const launch = (index: number, item: I): void => {
    inFlight++;
    send(item, index)
      .then((result) => {
        // Also after a failure: an earlier item answered late still extends the prefix.
        results[index] = result;
        flush();
      }, fail)
      .finally(() => {
        inFlight--;
        wake?.();
      });
  };

  for (;;) {
    while (failure === undefined && launched < items.length && inFlight < Math.max(1, limit())) {
      const index = launched++;
      launch(index, items[index] as I);
    }
    if (inFlight === 0) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  if (failure !== undefined) throw failure.error;
};
