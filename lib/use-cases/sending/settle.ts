import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { RequestTally } from '../destination-calls.ts';
import { endRun, fatalReason, finaliseIfComplete } from '../run-lifecycle.ts';
import type { SendBatchDeps } from './context.ts';
import type { Delivery } from './deliver.ts';
import { recordProgress } from './record.ts';

/** Which delivery of the message this is, as SQS counts them, and how many it allows before the DLQ. */
export interface DeliveryCount {
  receiveCount: number;
  maxReceiveCount: number;
}

/** `retry`: leave the message for SQS to redeliver. */
export type SendResult = 'done' | 'retry';

/** Failure reason of contacts whose requests were still failing on the message's last delivery. */
export const RETRIES_EXHAUSTED = 'retries_exhausted';

/** Records what the delivery did and decides what becomes of the rest of the batch. */
export const settle = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  from: number,
  delivery: Delivery,
  allRequests: RequestTally,
  count: DeliveryCount,
): Promise<SendResult> => {
  const log = deps.logger.child({ runId: batch.runId, exportId: batch.exportId, batchNo: batch.batchNo });
  const { results: delivered, stop, recorded } = delivery;
  // What the delivery recorded while sending is counted; only the rest is recorded here.
  const done = recorded?.count ?? 0;
  const tally = recorded === undefined ? allRequests : allRequests.since(recorded);
  const start = from + done;
  const results = delivered.slice(done);
  if (stop === undefined) {
    if (await recordProgress(deps, batch, { from: start, results, rest: { count: 0 } }, tally)) {
      await finaliseIfComplete(deps, batch.runId);
    }
    log.info('batch sent', { op: batch.op, contacts: delivered.length, requests: allRequests.requests });
    return 'done';
  }
  switch (stop.kind) {
    case 'cancelled':
      await endRun(deps, run, 'cancelled', 'Cancelled by request.');
      return close(deps, batch, start, results, 'dropped', tally);
    case 'connection_removed':
      deps.secrets.evict?.(batch.connectionId);
      await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.');
      return close(deps, batch, start, results, 'dropped', tally);
    case 'fatal':
      log.error('run failed: destination refused the connection', { reason: stop.error.reason });
      if (stop.error.reason === 'invalid_api_key')
        await deps.connections.setStatus(batch.connectionId, 'invalid_key');
      await endRun(deps, run, 'failed', fatalReason(stop.error));
      return close(deps, batch, start, results, 'dropped', tally);
    case 'transient':
      if (count.receiveCount >= count.maxReceiveCount) {
        log.warn('batch still failing on its last delivery; the rest is counted as failed', {
          error: stop.error.message,
        });
        return close(deps, batch, start, results, RETRIES_EXHAUSTED, tally);
      }
      await recordProgress(deps, batch, { from: start, results }, tally);
      if (delivered.length === 0) {
        log.warn('batch failed transiently; SQS will redeliver it', { error: stop.error.message });
        return 'retry';
      }
      // Progress was made: hand the rest back as a fresh message, so retries of a batch that moves
      // forward never count towards the dead-letter limit.
      return handBack(deps, batch, log, 'failed transiently after progress');
    case 'out_of_time':
      await recordProgress(deps, batch, { from: start, results }, tally);
      deps.metrics?.count('BatchesRequeued');
      return handBack(deps, batch, log, 'rate budget or invocation time ran out');
  }
};

export const handBack = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  log: ReturnType<SendBatchDeps['logger']['child']>,
  why: string,
  delaySeconds = deps.settings.requeueDelaySeconds,
): Promise<SendResult> => {
  log.warn('rest of the batch put back on the queue', { why, requeues: batch.requeues + 1 });
  await deps.sendQueue.send([{ ...batch, requeues: batch.requeues + 1 }], { delaySeconds });
  return 'done';
};

/** Records what was delivered and closes the batch: the items not delivered are dropped (or failed). */
export const close = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  from: number,
  results: Delivery['results'],
  restAs: 'dropped' | typeof RETRIES_EXHAUSTED,
  tally: RequestTally = new RequestTally(),
): Promise<SendResult> => {
  const count = batch.items.length - from - results.length;
  const rest =
    restAs === 'dropped'
      ? ({ count, as: 'dropped' } as const)
      : ({ count, as: 'failed', reason: restAs } as const);
  if (await recordProgress(deps, batch, { from, results, rest }, tally)) {
    if (restAs === 'dropped') deps.metrics?.count('ContactsDropped', count);
    await finaliseIfComplete(deps, batch.runId);
  }
  deps.logger.info('batch closed', {
    runId: batch.runId,
    batchNo: batch.batchNo,
    sent: results.length,
    rest: restAs,
  });
  return 'done';
};
