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

/**
 * When the rest of a batch may go back on the queue: not before `notBefore` (epoch ms), and never so
 * late that the invocation has no time left to send it ({@link handBack}).
 */
export interface HandBackTiming {
  notBefore: number;
  remainingMs: () => number;
}

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
  timing: HandBackTiming,
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
      return handBack(deps, batch, log, 'failed transiently after progress', timing);
    case 'out_of_time':
      await recordProgress(deps, batch, { from: start, results }, tally);
      deps.metrics?.count('BatchesRequeued');
      return handBack(deps, batch, log, 'rate budget or invocation time ran out', timing);
  }
};

/**
 * Puts the rest of the batch back as a fresh message (`requeues + 1`), at the tail of its
 * connection's group, so that however often a batch goes back (a rate-limit storm, a held lease)
 * it never counts towards the send queue's maxReceiveCount: only failures that make no progress
 * do. The send queue is FIFO, which refuses per-message delays, so the pause a delay gave is taken
 * here, in the invocation, until `timing.notBefore` (half the reserve stays for the send): a
 * delivery that gives up at once still hands back no sooner than `requeueDelaySeconds` after it
 * began, and a held budget never becomes a receive/hand-back loop at full speed. The pause is paid
 * by the one sender that works the connection's group, never by a second one; a delivery that ran
 * its invocation to the end (the usual case) has passed `notBefore` and hands back at once.
 */
export const handBack = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  log: ReturnType<SendBatchDeps['logger']['child']>,
  why: string,
  timing: HandBackTiming,
): Promise<SendResult> => {
  const pauseMs = Math.min(
    timing.notBefore - deps.clock.now(),
    timing.remainingMs() - deps.settings.reserveMs / 2,
  );
  if (pauseMs > 0) await deps.clock.sleep(pauseMs);
  log.warn('rest of the batch put back on the queue', { why, requeues: batch.requeues + 1, pauseMs });
  await deps.sendQueue.send([{ ...batch, requeues: batch.requeues + 1 }]);
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
