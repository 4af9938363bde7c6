import { BatchOutsidePlanError } from '#lib/domain/batch.ts';
import { type SendBatchMessage, SendBatchMessageSchema } from '#lib/domain/messages.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { toIssues } from '#lib/domain/validation.ts';
import { RequestTally } from './destination-calls.ts';
import { endRun } from './run-lifecycle.ts';
import type { SendBatchDeps } from './sending/context.ts';
import { type Delivery, deliver } from './sending/deliver.ts';
import {
  close,
  type DeliveryCount,
  type HandBackTiming,
  handBack,
  type SendResult,
  settle,
} from './sending/settle.ts';

export type { SendBatchDeps, SenderSettings } from './sending/context.ts';

export {
  type DeliveryCount,
  type HandBackTiming,
  RETRIES_EXHAUSTED,
  type SendResult,
} from './sending/settle.ts';

/**
 * Sends one batch (docs/architecture.md#sending): idempotent on `runId#batchNo`, stops for
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
  const run = await deps.runs.get(batch.runId);
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
  const timing: HandBackTiming = { notBefore: now + deps.settings.requeueDelaySeconds * 1000, remainingMs };
  const holder = `${now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const leased = await deps.batches.lease(
    batch.runId,
    batch.batchNo,
    holder,
    new Date(now).toISOString(),
    new Date(now + remainingMs()).toISOString(),
  );
  if (!leased) {
    const held = await deps.batches.get(batch.runId, batch.batchNo);
    if (held?.done) {
      log.info('batch already recorded; redelivery ignored');
      return 'done';
    }
    // Another delivery of this batch holds it: on the FIFO send queue only a sender that died
    // holding the lease (its message came back after the visibility timeout) or a duplicate
    // message outliving SQS's deduplication window. Look again once its lease (its invocation's
    // deadline) has passed, as a fresh message: a lease is never a failure of this batch.
    const until = held?.leaseUntil === undefined ? now : Date.parse(held.leaseUntil);
    return handBack(deps, batch, log, 'another delivery of this batch holds it', {
      notBefore: Math.max(timing.notBefore, until + 1_000),
      remainingMs,
    });
  }
  try {
    return await sendLeased(deps, batch, run, timing, count, body);
  } finally {
    await deps.batches.release(batch.runId, batch.batchNo, holder);
  }
};

const sendLeased = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  timing: HandBackTiming,
  count: DeliveryCount,
  body: string,
): Promise<SendResult> => {
  const state = await deps.batches.get(batch.runId, batch.batchNo);
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
      return await close(deps, batch, from, [], 'dropped');
    const connection = await deps.connections.get(batch.connectionId);
    if (connection === undefined) {
      deps.secrets.evict?.(batch.connectionId);
      await endRun(deps, run, 'cancelled', 'The connection was removed while the run was in progress.');
      return await close(deps, batch, from, [], 'dropped');
    }
    const tally = new RequestTally();
    const delivery = await deliver(deps, batch, from, run, connection, tally, timing.remainingMs);
    countDelivery(deps, tally, delivery);
    return await settle(deps, batch, run, from, delivery, tally, count, timing);
  } catch (error) {
    if (error instanceof BatchOutsidePlanError)
      return deadLetter(deps, body, error.message, 'batch outside its run');
    throw error;
  }
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
