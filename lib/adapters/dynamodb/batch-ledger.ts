import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { BatchRange, BatchState, ErrorSample, RecordResult } from '#lib/domain/batch.ts';
import type { BatchSettlement } from '#lib/domain/snapshot.ts';
import type { BatchLedger, RecordedOutcome } from '#lib/ports/batch-ledger.ts';
import { addCounters, getBatch, recordBatch, retryConflicts } from './batch-record.ts';
import { updateItem } from './item-ops.ts';
import {
  ErrorSampleItemSchema,
  Expr,
  expiresAt,
  fromItem,
  type Item,
  isConditionFailed,
  keys,
  type TableContext,
  toItem,
} from './records.ts';
import { mustExist, RunNotFoundError } from './runs.ts';
import { TTL_ATTRIBUTE } from './tables.ts';

/** The batch item's lease: taken when free, expired or already ours, never on a batch that is done. */
export const leaseBatch = (
  ctx: TableContext,
  runId: string,
  batchNo: number,
  holder: string,
  now: string,
  until: string,
): Promise<boolean> =>
  updateItem(ctx, keys.batch(runId, batchNo), (e) => ({
    update:
      `SET ${e.path('lease')} = ${e.value({ holder, until })}, ${e.path('tried')} = ${e.value(true)}, ` +
      `${e.path(TTL_ATTRIBUTE)} = if_not_exists(${e.path(TTL_ATTRIBUTE)}, ${e.value(expiresAt(ctx, ctx.ttlDays.batches))})`,
    condition:
      `(attribute_not_exists(${e.path('done')}) OR ${e.path('done')} = ${e.value(false)}) AND ` +
      `(attribute_not_exists(${e.path('lease')}) OR ${e.path('lease', 'until')} < ${e.value(now)} OR ` +
      `${e.path('lease', 'holder')} = ${e.value(holder)})`,
  }));

export const releaseBatch = async (
  ctx: TableContext,
  runId: string,
  batchNo: number,
  holder: string,
): Promise<void> => {
  // Someone else's lease (ours expired and was taken) is not ours to release: nothing to do.
  await updateItem(ctx, keys.batch(runId, batchNo), (e) => ({
    update: `REMOVE ${e.path('lease')}`,
    condition: `${e.path('lease', 'holder')} = ${e.value(holder)}`,
  }));
};

export const addRequests = async (
  ctx: TableContext,
  runId: string,
  requests: Record<string, number>,
  throttled: number,
): Promise<void> => {
  const e = new Expr();
  const UpdateExpression = addCounters(e, { throttled }, { failedByReason: {}, requests });
  const ConditionExpression = mustExist(e);
  try {
    await retryConflicts(ctx, () =>
      ctx.client.send(
        new UpdateItemCommand({
          TableName: ctx.tableName,
          Key: toItem(keys.run(runId)),
          UpdateExpression,
          ConditionExpression,
          ...e.attributes(),
        }),
      ),
    );
  } catch (error) {
    if (isConditionFailed(error)) throw new RunNotFoundError(runId);
    throw error;
  }
};

export const listErrorSamples = async (
  ctx: TableContext,
  runId: string,
  limit: number,
): Promise<ErrorSample[]> => {
  const samples: ErrorSample[] = [];
  if (limit < 1) return samples;
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :err)',
        ExpressionAttributeValues: { ':pk': { S: keys.run(runId).pk }, ':err': { S: 'ERR#' } },
        ConsistentRead: true,
        Limit: limit - samples.length,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) samples.push(fromItem(ErrorSampleItemSchema, item));
    start = out.LastEvaluatedKey;
  } while (start && samples.length < limit);
  return samples.slice(0, limit);
};

const SettlementItemSchema = z.object({
  next: z.number().int().min(0).optional(),
  done: z.boolean().optional(),
  accepted: z.number().optional(),
  resultsTo: z.number().int().min(0).optional(),
  failedItems: z.set(z.number().int().min(0)).optional(),
  tried: z.boolean().optional(),
});

/** Every `BATCH#` item of a run, as the settling of its staged snapshot changes needs it (one Query). */
export const listSettlements = async (
  ctx: TableContext,
  runId: string,
): Promise<Map<number, BatchSettlement>> => {
  const out = new Map<number, BatchSettlement>();
  let start: Item | undefined;
  do {
    const page = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :batch)',
        ExpressionAttributeValues: { ':pk': { S: keys.run(runId).pk }, ':batch': { S: 'BATCH#' } },
        ProjectionExpression: 'sk, #n, #d, #a, #r, #f, #t',
        ExpressionAttributeNames: {
          '#n': 'next',
          '#d': 'done',
          '#a': 'accepted',
          '#r': 'resultsTo',
          '#f': 'failedItems',
          '#t': 'tried',
        },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = fromItem(SettlementItemSchema, raw);
      const batchNo = Number((raw.sk?.S ?? '').slice('BATCH#'.length));
      // Recorded whole, before ranges existed: every item had a result.
      const whole = item.next === undefined && item.accepted !== undefined;
      out.set(batchNo, {
        next: item.next ?? 0,
        done: item.done ?? whole,
        ...(item.resultsTo === undefined ? {} : { resultsTo: item.resultsTo }),
        failed: item.failedItems ?? new Set<number>(),
        tried: item.tried ?? whole,
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
};

/** The failed contacts recorded on a run's `BATCH#` items, distinct and sorted, at most `limit`. */
export const listFailedEmails = async (
  ctx: TableContext,
  runId: string,
  limit: number,
): Promise<string[]> => {
  const emails = new Set<string>();
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :batch)',
        ExpressionAttributeValues: { ':pk': { S: keys.run(runId).pk }, ':batch': { S: 'BATCH#' } },
        ProjectionExpression: '#f',
        ExpressionAttributeNames: { '#f': 'failedEmails' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) for (const email of item.failedEmails?.SS ?? []) emails.add(email);
    start = out.LastEvaluatedKey;
  } while (start && emails.size < limit);
  return [...emails].sort().slice(0, limit);
};

/** `BatchLedger` on the state table: `BATCH#<n>` and `ERR#…` items beside the run, counters on the run. */
export class DynamoDbBatchLedger implements BatchLedger {
  constructor(private readonly ctx: TableContext) {}

  record(runId: string, batchNo: number, range: BatchRange, outcome: RecordedOutcome): Promise<RecordResult> {
    return recordBatch(this.ctx, runId, batchNo, range, outcome);
  }

  get(runId: string, batchNo: number): Promise<BatchState | undefined> {
    return getBatch(this.ctx, runId, batchNo);
  }

  lease(runId: string, batchNo: number, holder: string, now: string, until: string): Promise<boolean> {
    return leaseBatch(this.ctx, runId, batchNo, holder, now, until);
  }

  settlements(runId: string): Promise<Map<number, BatchSettlement>> {
    return listSettlements(this.ctx, runId);
  }

  release(runId: string, batchNo: number, holder: string): Promise<void> {
    return releaseBatch(this.ctx, runId, batchNo, holder);
  }

  addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void> {
    return addRequests(this.ctx, runId, requests, throttled);
  }

  errorSamples(runId: string, limit: number): Promise<ErrorSample[]> {
    return listErrorSamples(this.ctx, runId, limit);
  }

  failedEmails(runId: string, limit: number): Promise<string[]> {
    return listFailedEmails(this.ctx, runId, limit);
  }
}
