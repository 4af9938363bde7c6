import { FatalRunError } from '#lib/domain/errors.ts';
import {
  type SendBatchMessage,
  type SendBatchMessageInput,
  SendBatchMessageSchema,
} from '#lib/domain/messages.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { toIssues } from '#lib/domain/validation.ts';
import type { ContactResult, Destination } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { DeadLetters, WorkQueue } from '#lib/ports/work-queue.ts';
import { RequestTally, ThrottledTooLongError } from './destination-calls.ts';
import { endRun, fatalReason, finaliseIfComplete, type LifecycleDeps } from './run-lifecycle.ts';
import { deliver } from './sending/deliver.ts';
import { droppedOutcome, outcomeOf } from './sending/outcome.ts';
import { snapshotChanges } from './sending/snapshot-changes.ts';

export interface SenderSettings {
  maxAttempts: number;
  baseDelayMs: number;
  /** Keep this much invocation time in hand; a batch throttled past it goes back on the queue. */
  reserveMs: number;
  requeueDelaySeconds: number;
  probeRecheckMs: number;
  probeWaitMs: number;
  /** Contacts rejected by a bulk upsert are retried one by one (to learn why) up to this many per batch. */
  singleRetryLimit: number;
  maskEmails: boolean;
}

export interface SendBatchDeps extends LifecycleDeps {
  destination: Destination;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  sendQueue: WorkQueue<SendBatchMessageInput>;
  deadLetters: DeadLetters;
  settings: SenderSettings;
}

/** `retry`: leave the message for SQS to redeliver. */
export type SendResult = 'done' | 'retry';

/**
 * Sends one batch (DESIGN.md §2 "Sending"): idempotent on `runId#batchNo`, stops for cancelled or
 * failed runs and removed connections, classifies every failure, and records the outcome and the
 * snapshot exactly once. The last batch finalises the run.
 */
export const sendBatch = async (
  deps: SendBatchDeps,
  body: string,
  remainingMs: () => number,
): Promise<SendResult> => {
  const message = parse(body);
  if (!message.ok) {
    deps.logger.error('malformed batch message sent to the dead-letter queue', { reason: message.reason });
    await deps.deadLetters.send(body, message.reason);
    deps.metrics?.count('BatchesDeadLettered');
    return 'done';
  }
  const batch = message.value;
  const log = deps.logger.child({ runId: batch.runId, exportId: batch.exportId, batchNo: batch.batchNo });
  const run = await deps.store.getRun(batch.runId);
  if (run === undefined) {
    log.warn('batch for an unknown run sent to the dead-letter queue');
    await deps.deadLetters.send(body, `run ${batch.runId} does not exist`);
    deps.metrics?.count('BatchesDeadLettered');
    return 'done';
  }
  if (await deps.store.isBatchRecorded(batch.runId, batch.batchNo)) {
    log.info('batch already recorded; redelivery ignored');
    return 'done';
  }
  if (run.cancelRequested && !isTerminal(run.status)) {
    await endRun(deps, run, 'cancelled', 'Cancelled by request.');
  }
  if (isTerminal(run.status) || run.cancelRequested) return drop(deps, batch, 'run is no longer active');
  const connection = await deps.store.getConnection(batch.connectionId);
  if (connection === undefined) {
    await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.');
    return drop(deps, batch, 'connection removed');
  }

  const tally = new RequestTally();
  try {
    const results = await deliver(deps, batch, run, connection, tally, remainingMs);
    await deps.store.applySnapshot(batch.exportId, snapshotChanges(batch, run, results));
    const recorded = await deps.store.recordBatch(
      batch.runId,
      batch.batchNo,
      outcomeOf(results, tally, batch.batchNo, deps.settings.maskEmails),
    );
    countDelivery(deps, tally, results);
    log.info('batch sent', {
      op: batch.op,
      contacts: batch.items.length,
      recorded,
      requests: tally.requests,
    });
    if (recorded === 'recorded') await finaliseIfComplete(deps, batch.runId);
    return 'done';
  } catch (error) {
    if (error instanceof FatalRunError) {
      log.error('run failed: destination refused the connection', { reason: error.reason });
      if (error.reason === 'invalid_api_key')
        await deps.store.setConnectionStatus(connection.id, 'invalid_key');
      await endRun(deps, run, 'failed', fatalReason(error));
      return drop(deps, batch, error.reason, tally);
    }
    await deps.store.addRequests(batch.runId, tally.requests, tally.throttled);
    countDelivery(deps, tally, []);
    if (error instanceof ThrottledTooLongError) {
      deps.metrics?.count('BatchesRequeued');
      log.warn('rate limited for too long; batch put back on the queue', { requeues: batch.requeues + 1 });
      await deps.sendQueue.send([{ ...batch, requeues: batch.requeues + 1 }], {
        delaySeconds: deps.settings.requeueDelaySeconds,
      });
      return 'done';
    }
    log.warn('batch failed transiently; SQS will redeliver it', { error: String(error) });
    return 'retry';
  }
};

const countDelivery = (deps: SendBatchDeps, tally: RequestTally, results: readonly ContactResult[]): void => {
  const accepted = results.filter((r) => r.ok).length;
  deps.metrics?.count('ContactsAccepted', accepted);
  deps.metrics?.count('ContactsFailed', results.length - accepted);
  deps.metrics?.count('DestinationRequests', tally.total);
  deps.metrics?.count('DestinationThrottled', tally.throttled);
};

const parse = (body: string): { ok: true; value: SendBatchMessage } | { ok: false; reason: string } => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const result = SendBatchMessageSchema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issues = toIssues(result.error).slice(0, 5);
  return { ok: false, reason: issues.map((i) => `${i.path || '(message)'}: ${i.reason}`).join('; ') };
};

const drop = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  why: string,
  tally?: RequestTally,
): Promise<SendResult> => {
  await deps.store.recordBatch(batch.runId, batch.batchNo, droppedOutcome(batch.items.length, tally));
  deps.metrics?.count('ContactsDropped', batch.items.length);
  deps.logger.info('batch dropped', { runId: batch.runId, batchNo: batch.batchNo, why });
  return 'done';
};
