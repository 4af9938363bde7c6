import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import { RequestTally } from '../destination-calls.ts';
import type { SendBatchDeps } from './context.ts';
import { outcomeOf, type Rest } from './outcome.ts';

/** A part of a batch to record: items `from` onwards have `results`; `rest` closes the batch. */
export interface Progress {
  from: number;
  results: readonly ContactResult[];
  /** Set when this record closes the batch: what became of the items after the results. */
  rest?: Rest;
}

/** The addresses of a batch's items `from`…`to`, whatever the batch's kind. */
const emailsOf = (batch: SendBatchMessage, from: number, to: number): string[] => {
  switch (batch.op) {
    case 'upsert':
    case 'list-join':
      return batch.items.slice(from, to).map((item) => item.data.email);
    case 'list-leave':
      return batch.items.slice(from, to).map((item) => item.email);
  }
};

/**
 * Records one delivery's progress through a batch exactly once: the range's counts, refused positions
 * and (when it closes the batch) where its results end, in one conditional transaction. The snapshot
 * follows from these and the plan the planner staged (snapshot-view.ts). When another delivery of
 * the same batch recorded part of the range meanwhile, only what it has not recorded is recorded; its requests still count. Returns
 * whether the batch is now done.
 */
export const recordProgress = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  progress: Progress,
  tally: RequestTally,
): Promise<boolean> => {
  const { from, results, rest } = progress;
  const total = batch.items.length;
  const delivered = from + results.length;
  const final = rest !== undefined;
  let start = from;
  let requests = tally;
  for (;;) {
    const mine = results.slice(start - from);
    // The contacts left failed when the batch closes are named too, so a retry sends them again.
    const restNow: Rest =
      final && rest !== undefined
        ? 'as' in rest && rest.as === 'failed'
          ? { ...rest, emails: emailsOf(batch, delivered, total) }
          : rest
        : { count: 0 };
    if (mine.length === 0 && !final) break;
    const outcome = outcomeOf(mine, restNow, requests, {
      from: start,
      batchNo: batch.batchNo,
      maskEmails: deps.settings.maskEmails,
      at: new Date(deps.clock.now()).toISOString(),
    });
    const to = final ? total : delivered;
    const result = await deps.batches.record(batch.runId, batch.batchNo, { from: start, to, final }, outcome);
    if (result.recorded) return final;
    // Requests are counted once, with the first range that records them.
    if (requests.total > 0) {
      await deps.batches.addRequests(batch.runId, requests.requests, requests.throttled);
      requests = new RequestTally();
    }
    if (result.state.done) return true;
    if (result.state.next <= start || result.state.next > delivered) {
      // Another delivery is ahead of ours (or the batch stands before where we started): its record stands.
      deps.logger.info('batch progress recorded by another delivery', {
        runId: batch.runId,
        batchNo: batch.batchNo,
        next: result.state.next,
      });
      return false;
    }
    start = result.state.next;
  }
  if (requests.total > 0) await deps.batches.addRequests(batch.runId, requests.requests, requests.throttled);
  return false;
};
