import { GetItemCommand, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import {
  BatchOutsidePlanError,
  type BatchRange,
  type BatchState,
  type RecordResult,
} from '#lib/domain/batch.ts';
import { TransientError } from '#lib/domain/errors.ts';
import type { RecordedOutcome } from '#lib/ports/batch-ledger.ts';
import {
  backoff,
  cancellationCodes,
  Expr,
  errorName,
  expiresAt,
  fromItem,
  keys,
  normaliseCounts,
  type TableContext,
  toItem,
} from './records.ts';
import { getRun, mustExist, RunNotFoundError } from './runs.ts';
import { TTL_ATTRIBUTE } from './tables.ts';

/** Most error samples kept per recorded range of a batch. */
export const SAMPLES_PER_BATCH = 5;
const CONFLICT_ATTEMPTS = 10;

/**
 * Retries a write that lost a race with a concurrent transaction on the same item (every sender
 * updates the run item). Conflicts are not failures of the write's condition; retrying is safe.
 */
export const retryConflicts = async <T>(ctx: TableContext, write: () => Promise<T>): Promise<T> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const conflict =
        errorName(error) === 'TransactionConflictException' ||
        (errorName(error) === 'TransactionCanceledException' &&
          cancellationCodes(error).some((c) => c === 'TransactionConflict'));
      if (!conflict) throw error;
      if (attempt + 1 >= CONFLICT_ATTEMPTS) {
        throw new TransientError(`Run item still contended after ${CONFLICT_ATTEMPTS} attempts`);
      }
      await backoff(ctx.clock, attempt);
    }
  }
};

/** `ADD` of the counters (top-level and inside the two maps) onto the run item. */
export const addCounters = (
  e: Expr,
  scalars: Record<string, number>,
  maps: Record<'failedByReason' | 'requests', Record<string, number>>,
): string => {
  const parts = Object.entries(scalars).map(([k, n]) => `${e.path('progress', k)} ${e.value(n)}`);
  for (const [map, counts] of Object.entries(maps)) {
    for (const [k, n] of normaliseCounts(counts)) parts.push(`${e.path('progress', map, k)} ${e.value(n)}`);
  }
  return `ADD ${parts.join(', ')}`;
};

const BatchItemSchema = z.object({
  next: z.number().int().min(0).optional(),
  done: z.boolean().optional(),
  accepted: z.number().optional(),
  lease: z.object({ holder: z.string(), until: z.string() }).optional(),
});

/** Where a batch stands; items recorded before ranges existed (no `next`) were whole batches, done. */
export const getBatch = async (
  ctx: TableContext,
  runId: string,
  batchNo: number,
): Promise<BatchState | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({
      TableName: ctx.tableName,
      Key: toItem(keys.batch(runId, batchNo)),
      ConsistentRead: true,
      ProjectionExpression: '#n, #d, #a, #l, pk, sk',
      ExpressionAttributeNames: { '#n': 'next', '#d': 'done', '#a': 'accepted', '#l': 'lease' },
    }),
  );
  if (out.Item === undefined) return undefined;
  const item = fromItem(BatchItemSchema, out.Item);
  const lease = item.lease === undefined ? {} : { leaseUntil: item.lease.until };
  if (item.next !== undefined) return { next: item.next, done: item.done ?? false, ...lease };
  // Recorded whole, before batches were recorded in ranges; or only leased so far.
  return item.accepted !== undefined ? { next: 0, done: true } : { next: 0, done: false, ...lease };
};

/**
 * The refused contacts, as sets the range's update adds to: emails (named by retry-failed) and batch
 * positions (read when the run's staged snapshot changes are settled). A batch holds at most 100
 * contacts, and both expire with it.
 */
const failedSets = (b: Expr, outcome: RecordedOutcome): string => {
  const adds: string[] = [];
  if (outcome.failedEmails?.length)
    adds.push(`${b.path('failedEmails')} ${b.value(new Set(outcome.failedEmails))}`);
  if (outcome.failedItems?.length)
    adds.push(`${b.path('failedItems')} ${b.value(new Set(outcome.failedItems))}`);
  return adds.length === 0 ? '' : ` ADD ${adds.join(', ')}`;
};

/**
 * One transaction: move `BATCH#n` from `from` to `to` (create it when `from` is 0), add the counters
 * to the run (and `batchesDone` when the range is final), and write up to five error samples. A
 * redelivery, or a concurrent sender of the same batch, fails the batch item's condition, so nothing
 * in the transaction happens twice; the run's condition refuses batch numbers outside its plan.
 */
export const recordBatch = async (
  ctx: TableContext,
  runId: string,
  batchNo: number,
  range: BatchRange,
  outcome: RecordedOutcome,
): Promise<RecordResult> => {
  const failed = Object.values(outcome.failed).reduce((a, b) => a + b, 0);
  const e = new Expr();
  const UpdateExpression = `${addCounters(
    e,
    {
      batchesDone: range.final ? 1 : 0,
      accepted: outcome.accepted,
      failed,
      dropped: outcome.dropped,
      throttled: outcome.throttled,
    },
    { failedByReason: outcome.failed, requests: outcome.requests },
  )} SET ${e.path('lastProgressAt')} = ${e.value(outcome.at)}`;
  const ConditionExpression = `${mustExist(e)} AND ${e.path('batchesTotal')} > ${e.value(batchNo)}`;
  const b = new Expr();
  const batchCondition =
    range.from === 0
      ? `attribute_not_exists(${b.path('next')}) AND attribute_not_exists(${b.path('accepted')})`
      : `${b.path('next')} = ${b.value(range.from)} AND ${b.path('done')} = ${b.value(false)}`;
  const items: TransactWriteItem[] = [
    {
      Update: {
        TableName: ctx.tableName,
        Key: toItem(keys.batch(runId, batchNo)),
        UpdateExpression:
          `SET ${b.path('next')} = ${b.value(range.to)}, ${b.path('done')} = ${b.value(range.final)}, ` +
          `${b.path('recordedAt')} = ${b.value(outcome.at)}, ` +
          `${b.path(TTL_ATTRIBUTE)} = ${b.value(expiresAt(ctx, ctx.ttlDays.batches))}` +
          (range.final && outcome.resultsTo !== undefined
            ? `, ${b.path('resultsTo')} = ${b.value(outcome.resultsTo)}`
            : '') +
          failedSets(b, outcome),
        ConditionExpression: batchCondition,
        ...b.attributes(),
      },
    },
    {
      Update: {
        TableName: ctx.tableName,
        Key: toItem(keys.run(runId)),
        UpdateExpression,
        ConditionExpression,
        ...e.attributes(),
      },
    },
    ...outcome.samples.slice(0, SAMPLES_PER_BATCH).map(
      (s, n): TransactWriteItem => ({
        Put: {
          TableName: ctx.tableName,
          Item: toItem({
            ...keys.sample(runId, batchNo, range.from, n),
            email: s.email,
            reason: s.reason,
            batchNo: s.batchNo ?? batchNo,
            expiresAt: expiresAt(ctx, ctx.ttlDays.samples),
          }),
        },
      }),
    ),
  ];
  return retryConflicts(ctx, async (): Promise<RecordResult> => {
    try {
      await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return { recorded: true, state: { next: range.to, done: range.final } };
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') throw error;
      const [batch, run] = cancellationCodes(error);
      if (batch === 'ConditionalCheckFailed') {
        return { recorded: false, state: (await getBatch(ctx, runId, batchNo)) ?? { next: 0, done: false } };
      }
      if (run === 'ConditionalCheckFailed') {
        if ((await getRun(ctx, runId)) === undefined) throw new RunNotFoundError(runId);
        throw new BatchOutsidePlanError(runId, batchNo);
      }
      throw error;
    }
  });
};
