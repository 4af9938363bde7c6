import {
  type SendBatchMessage,
  type SendBatchMessageInput,
  SendBatchMessageSchema,
} from '#lib/domain/messages.ts';
import { isTerminal } from '#lib/domain/run.ts';
import { toIssues } from '#lib/domain/validation.ts';
import type { Destination } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import { BatchOutsidePlanError, type RunRecord } from '#lib/ports/state-store.ts';
import type { DeadLetters, WorkQueue } from '#lib/ports/work-queue.ts';
import { RequestTally } from './destination-calls.ts';
import { endRun, fatalReason, finaliseIfComplete, type LifecycleDeps } from './run-lifecycle.ts';
import { type Delivery, deliver } from './sending/deliver.ts';
import { recordProgress } from './sending/record.ts';
import { intentChanges } from './sending/snapshot-changes.ts';

export interface SenderSettings {
  maxAttempts: number;
  baseDelayMs: number;
  /** Keep this much invocation time in hand; a batch that would wait past it goes back on the queue. */
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

/** Which delivery of the message this is, as SQS counts them, and how many it allows before the DLQ. */
export interface DeliveryCount {
  receiveCount: number;
  maxReceiveCount: number;
}

/** `retry`: leave the message for SQS to redeliver. */
export type SendResult = 'done' | 'retry';

/** Failure reason of contacts whose requests were still failing on the message's last delivery. */
export const RETRIES_EXHAUSTED = 'retries_exhausted';

/**
 * Sends one batch (docs/architecture.md, "Sending"): idempotent on `runId#batchNo`, stops for
 * cancelled or ended runs and removed connections (also while sending), classifies every failure,
 * and records the outcome and the snapshot exactly once — in ranges, so a delivery that fails half way
 * keeps what it did and hands only the rest back. A permanent rejection, or a request still failing on
 * the message's last delivery, is recorded as failed contacts (the next run sends them again) rather
 * than left to the dead-letter queue, where it would hold the run open. The last batch finalises the run.
 */
export const sendBatch = async (
  deps: SendBatchDeps,
  body: string,
  remainingMs: () => number,
  count: DeliveryCount = { receiveCount: 1, maxReceiveCount: Number.POSITIVE_INFINITY },
): Promise<SendResult> => {
  const message = parse(body);
  if (!message.ok) return deadLetter(deps, body, message.reason, 'malformed batch message');
  const batch = message.value;
  const log = deps.logger.child({ runId: batch.runId, exportId: batch.exportId, batchNo: batch.batchNo });
  const run = await deps.store.getRun(batch.runId);
  if (run === undefined)
    return deadLetter(deps, body, `run ${batch.runId} does not exist`, 'batch for an unknown run');
  if (run.batchesTotal === undefined || batch.batchNo >= run.batchesTotal) {
    return deadLetter(
      deps,
      body,
      `batch ${batch.batchNo} is not part of the plan of run ${run.id}`,
      'batch outside its run',
    );
  }
  const now = deps.clock.now();
  const holder = `${now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const leased = await deps.store.leaseBatch(
    batch.runId,
    batch.batchNo,
    holder,
    new Date(now).toISOString(),
    new Date(now + remainingMs()).toISOString(),
  );
  if (!leased) {
    const held = await deps.store.getBatch(batch.runId, batch.batchNo);
    if (held?.done) {
      log.info('batch already recorded; redelivery ignored');
      return 'done';
    }
    // SQS handed this message to two consumers at once: the other one is sending it. Look again
    // when its lease (its invocation's deadline) has passed.
    const until = held?.leaseUntil === undefined ? now : Date.parse(held.leaseUntil);
    const delaySeconds = Math.min(
      900,
      Math.max(deps.settings.requeueDelaySeconds, Math.ceil((until - now) / 1000) + 1),
    );
    return handBack(deps, batch, log, 'another delivery of this batch holds it', delaySeconds);
  }
  try {
    return await sendLeased(deps, batch, run, remainingMs, count, body);
  } finally {
    await deps.store.releaseBatch(batch.runId, batch.batchNo, holder);
  }
};

const sendLeased = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  remainingMs: () => number,
  count: DeliveryCount,
  body: string,
): Promise<SendResult> => {
  const state = await deps.store.getBatch(batch.runId, batch.batchNo);
  if (state?.done) {
    deps.logger.info('batch already recorded; redelivery ignored', {
      runId: batch.runId,
      batchNo: batch.batchNo,
    });
    return 'done';
  }
  const from = state?.next ?? 0;
  try {
    if (run.cancelRequested === true && !isTerminal(run.status)) {
      await endRun(deps, run, 'cancelled', 'Cancelled by request.');
    }
    if (isTerminal(run.status) || run.cancelRequested === true)
      return await close(deps, batch, run, from, [], 'dropped');
    const connection = await deps.store.getConnection(batch.connectionId);
    if (connection === undefined) {
      deps.secrets.evict?.(batch.connectionId);
      await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.');
      return await close(deps, batch, run, from, [], 'dropped');
    }
    const intent = intentChanges(batch, run, from);
    if (intent.length > 0) await deps.store.applySnapshot(batch.exportId, intent);
    const tally = new RequestTally();
    const delivery = await deliver(deps, batch, from, run, connection, tally, remainingMs);
    countDelivery(deps, tally, delivery);
    return await settle(deps, batch, run, from, delivery, tally, count);
  } catch (error) {
    if (error instanceof BatchOutsidePlanError)
      return deadLetter(deps, body, error.message, 'batch outside its run');
    throw error;
  }
};

/** Records what the delivery did and decides what becomes of the rest of the batch. */
const settle = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  from: number,
  { results, stop }: Delivery,
  tally: RequestTally,
  count: DeliveryCount,
): Promise<SendResult> => {
  const log = deps.logger.child({ runId: batch.runId, exportId: batch.exportId, batchNo: batch.batchNo });
  if (stop === undefined) {
    if (await recordProgress(deps, batch, run, { from, results, rest: { count: 0 } }, tally)) {
      await finaliseIfComplete(deps, batch.runId);
    }
    log.info('batch sent', { op: batch.op, contacts: results.length, requests: tally.requests });
    return 'done';
  }
  switch (stop.kind) {
    case 'cancelled':
      await endRun(deps, run, 'cancelled', 'Cancelled by request.');
      return close(deps, batch, run, from, results, 'dropped', tally);
    case 'connection_removed':
      deps.secrets.evict?.(batch.connectionId);
      await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.');
      return close(deps, batch, run, from, results, 'dropped', tally);
    case 'fatal':
      log.error('run failed: destination refused the connection', { reason: stop.error.reason });
      if (stop.error.reason === 'invalid_api_key')
        await deps.store.setConnectionStatus(batch.connectionId, 'invalid_key');
      await endRun(deps, run, 'failed', fatalReason(stop.error));
      return close(deps, batch, run, from, results, 'dropped', tally);
    case 'transient':
      if (count.receiveCount >= count.maxReceiveCount) {
        log.warn('batch still failing on its last delivery; the rest is counted as failed', {
          error: stop.error.message,
        });
        return close(deps, batch, run, from, results, RETRIES_EXHAUSTED, tally);
      }
      await recordProgress(deps, batch, run, { from, results }, tally);
      if (results.length === 0) {
        log.warn('batch failed transiently; SQS will redeliver it', { error: stop.error.message });
        return 'retry';
      }
      // Progress was made: hand the rest back as a fresh message, so retries of a batch that moves
      // forward never count towards the dead-letter limit.
      return handBack(deps, batch, log, 'failed transiently after progress');
    case 'out_of_time':
      await recordProgress(deps, batch, run, { from, results }, tally);
      deps.metrics?.count('BatchesRequeued');
      return handBack(deps, batch, log, 'rate budget or invocation time ran out');
  }
};

const handBack = async (
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
const close = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
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
  if (await recordProgress(deps, batch, run, { from, results, rest }, tally)) {
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

const deadLetter = async (
  deps: SendBatchDeps,
  body: string,
  reason: string,
  what: string,
): Promise<SendResult> => {
  deps.logger.error(`${what} sent to the dead-letter queue`, { reason });
  await deps.deadLetters.send(body, reason);
  deps.metrics?.count('BatchesDeadLettered');
  return 'done';
};

const countDelivery = (deps: SendBatchDeps, tally: RequestTally, delivery: Delivery): void => {
  const accepted = delivery.results.filter((r) => r.ok).length;
  deps.metrics?.count('ContactsAccepted', accepted);
  deps.metrics?.count('ContactsFailed', delivery.results.length - accepted);
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
