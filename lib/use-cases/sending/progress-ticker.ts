import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import type { RequestTally } from '../destination-calls.ts';
import type { SendBatchDeps } from './context.ts';
import { recordProgress } from './record.ts';

/** A delivery records the contacts done so far after this many more results, or this long. */
export interface ProgressEvery {
  results: number;
  ms: number;
}

/**
 * At 5 requests/s shared by two senders a per-contact batch of 100 takes ~40 s; recorded only at
 * its end, the run's progress stood still that long. Every 5 s is ~8 extra ledger records per
 * such batch, and keeps the console's bar moving.
 */
export const DEFAULT_PROGRESS_EVERY: ProgressEvery = { results: 50, ms: 5_000 };

/** What a delivery's own partial records covered: its first `count` results and the requests so far. */
export interface Recorded {
  count: number;
  requests: Record<string, number>;
  throttled: number;
}

/**
 * Records a delivery's progress while it sends, through the same exactly-once ranges as its end
 * (`recordProgress`, never final), so the ledger counts every contact once whoever records it.
 * `tick` starts a record when one is due and none is in flight, without waiting for it: the sender
 * keeps its rate-budget slots. A failed record is left to the next one or to the batch's end.
 */
export const progressTicker = (
  deps: SendBatchDeps,
  target: { batch: SendBatchMessage; run: RunRecord; from: number },
  results: readonly ContactResult[],
  tally: RequestTally,
  every: ProgressEvery = DEFAULT_PROGRESS_EVERY,
) => {
  let recorded: Recorded = { count: 0, requests: {}, throttled: 0 };
  let lastAt = deps.clock.now();
  let inFlight: Promise<void> | undefined;
  const tick = (): void => {
    const count = results.length;
    if (inFlight !== undefined || count === recorded.count) return;
    if (count - recorded.count < every.results && deps.clock.now() - lastAt < every.ms) return;
    lastAt = deps.clock.now();
    const upTo: Recorded = { count, requests: { ...tally.requests }, throttled: tally.throttled };
    const range = { from: target.from + recorded.count, results: results.slice(recorded.count, count) };
    inFlight = recordProgress(deps, target.batch, range, tally.since(recorded))
      .then(() => {
        recorded = upTo;
      })
      .catch((error: unknown) => {
        deps.logger.warn('partial batch progress not recorded; a later record covers it', {
          runId: target.batch.runId,
          batchNo: target.batch.batchNo,
          error: String(error),
        });
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  /** Waits for a record in flight; what the partial records covered. */
  const settled = async (): Promise<Recorded> => {
    await inFlight;
    return recorded;
  };
  return { tick, settled };
};
