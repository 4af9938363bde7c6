import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { TransientError, ValidationError } from '#lib/domain/errors.ts';
import {
  type BatchOutcome,
  BatchOutsidePlanError,
  type BatchRange,
  type BatchState,
  type ErrorSample,
  type RecordResult,
  type RunRecord,
  RunRecordSchema,
} from '#lib/ports/state-store.ts';
import {
  backoff,
  ErrorSampleItemSchema,
  Expr,
  errorName,
  expiresAt,
  fromItem,
  type Item,
  isConditionFailed,
  keys,
  normaliseCounts,
  type TableContext,
  toItem,
} from './records.ts';
import { TTL_ATTRIBUTE } from './tables.ts';

/** Most error samples kept per recorded range of a batch. */
export const SAMPLES_PER_BATCH = 5;
const CONFLICT_ATTEMPTS = 10;

type Patch = Partial<Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt'>>;

const runGsiSk = (run: Pick<RunRecord, 'createdAt' | 'id'>): string => `${run.createdAt}#${run.id}`;

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`Run ${runId} does not exist`);
  }
}

export const createRun = async (ctx: TableContext, run: RunRecord): Promise<void> => {
  const item = toItem({
    ...run,
    ...keys.run(run.id),
    gsi1pk: `RUNS#${run.exportId}`,
    gsi1sk: runGsiSk(run),
    // The counter maps must exist before `ADD progress.requests.#kind` can target a path inside them.
    progress: {
      ...run.progress,
      failedByReason: run.progress.failedByReason ?? {},
      requests: run.progress.requests ?? {},
    },
  });
  try {
    await ctx.client.send(
      new PutItemCommand({
        TableName: ctx.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) throw new Error(`Run ${run.id} already exists`);
    throw error;
  }
};

export const getRun = async (ctx: TableContext, id: string): Promise<RunRecord | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({ TableName: ctx.tableName, Key: toItem(keys.run(id)), ConsistentRead: true }),
  );
  return out.Item && fromItem(RunRecordSchema, out.Item);
};

const encodeCursor = (gsi1sk: string): string => Buffer.from(gsi1sk, 'utf8').toString('base64url');

const decodeCursor = (exportId: string, cursor: string): Item => {
  const gsi1sk = Buffer.from(cursor, 'base64url').toString('utf8');
  const hash = gsi1sk.indexOf('#');
  if (hash < 1 || hash === gsi1sk.length - 1) {
    throw new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return toItem({ ...keys.run(gsi1sk.slice(hash + 1)), gsi1pk: `RUNS#${exportId}`, gsi1sk });
};

/**
 * Newest first from GSI1. The cursor is the base64 of the last returned run's index sort key (from
 * which its full `LastEvaluatedKey` is rebuilt); it is only returned when more runs follow. GSIs are
 * eventually consistent: a run created a moment ago may be missing for a short while.
 */
export const listRuns = async (
  ctx: TableContext,
  exportId: string,
  limit: number,
  cursor?: string,
): Promise<{ runs: RunRecord[]; next?: string }> => {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const items: Item[] = [];
  let start: Item | undefined = cursor === undefined ? undefined : decodeCursor(exportId, cursor);
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `RUNS#${exportId}` } },
        ScanIndexForward: false,
        // One more than asked tells whether a next page exists.
        Limit: limit + 1 - items.length,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && items.length <= limit);
  const runs = items.slice(0, limit).map((item) => fromItem(RunRecordSchema, item));
  const last = runs[runs.length - 1];
  return items.length > limit && last ? { runs, next: encodeCursor(runGsiSk(last)) } : { runs };
};

/** Sets the defined fields of `patch` on the run; `condition` decides whether it may. */
const updateRun = async (
  ctx: TableContext,
  id: string,
  set: Record<string, unknown>,
  condition: (e: Expr) => string,
): Promise<boolean> => {
  const e = new Expr();
  const assignments = Object.entries(set)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${e.path(k)} = ${e.value(v)}`);
  const ConditionExpression = condition(e);
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.run(id)),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ConditionExpression,
        ...e.attributes(),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};

const mustExist = (e: Expr): string => `attribute_exists(${e.path('pk')})`;

export const transitionRun = async (
  ctx: TableContext,
  id: string,
  from: readonly RunRecord['status'][],
  to: RunRecord['status'],
  patch: Patch = {},
): Promise<boolean> => {
  if (from.length === 0) return false;
  return updateRun(
    ctx,
    id,
    { ...patch, status: to },
    (e) => `${e.path('status')} IN (${[...new Set(from)].map((s) => e.value(s)).join(', ')})`,
  );
};

export const setRunFields = async (
  ctx: TableContext,
  id: string,
  set: Record<string, unknown>,
): Promise<void> => {
  const exists = Object.values(set).some((v) => v !== undefined)
    ? await updateRun(ctx, id, set, mustExist)
    : (await getRun(ctx, id)) !== undefined;
  if (!exists) throw new RunNotFoundError(id);
};

/**
 * Retries a write that lost a race with a concurrent transaction on the same item (every sender
 * updates the run item). Conflicts are not failures of the write's condition; retrying is safe.
 */
const retryConflicts = async <T>(ctx: TableContext, write: () => Promise<T>): Promise<T> => {
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

const cancellationCodes = (error: unknown): (string | undefined)[] =>
  ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);

/** `ADD` of the counters (top-level and inside the two maps) onto the run item. */
const addCounters = (
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

/** The batch item's lease: taken when free, expired or already ours, never on a batch that is done. */
export const leaseBatch = async (
  ctx: TableContext,
  runId: string,
  batchNo: number,
  holder: string,
  now: string,
  until: string,
): Promise<boolean> => {
  const e = new Expr();
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.batch(runId, batchNo)),
        UpdateExpression:
          `SET ${e.path('lease')} = ${e.value({ holder, until })}, ` +
          `${e.path(TTL_ATTRIBUTE)} = if_not_exists(${e.path(TTL_ATTRIBUTE)}, ${e.value(expiresAt(ctx, ctx.ttlDays.batches))})`,
        ConditionExpression:
          `(attribute_not_exists(${e.path('done')}) OR ${e.path('done')} = ${e.value(false)}) AND ` +
          `(attribute_not_exists(${e.path('lease')}) OR ${e.path('lease', 'until')} < ${e.value(now)} OR ` +
          `${e.path('lease', 'holder')} = ${e.value(holder)})`,
        ...e.attributes(),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};

export const releaseBatch = async (
  ctx: TableContext,
  runId: string,
  batchNo: number,
  holder: string,
): Promise<void> => {
  const e = new Expr();
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.batch(runId, batchNo)),
        UpdateExpression: `REMOVE ${e.path('lease')}`,
        ConditionExpression: `${e.path('lease', 'holder')} = ${e.value(holder)}`,
        ...e.attributes(),
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
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
  outcome: BatchOutcome,
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
          `${b.path(TTL_ATTRIBUTE)} = ${b.value(expiresAt(ctx, ctx.ttlDays.batches))}`,
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

/** Takes the planning lease when free, expired, or already ours. */
export const leasePlanning = (
  ctx: TableContext,
  id: string,
  holder: string,
  now: string,
  until: string,
): Promise<boolean> =>
  updateRun(
    ctx,
    id,
    { planLease: { holder, until } },
    (e) =>
      `${mustExist(e)} AND (attribute_not_exists(${e.path('planLease')}) OR ` +
      `${e.path('planLease', 'until')} < ${e.value(now)} OR ${e.path('planLease', 'holder')} = ${e.value(holder)})`,
  );

export const releasePlanning = async (ctx: TableContext, id: string, holder: string): Promise<void> => {
  const e = new Expr();
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.run(id)),
        UpdateExpression: `REMOVE ${e.path('planLease')}`,
        ConditionExpression: `${e.path('planLease', 'holder')} = ${e.value(holder)}`,
        ...e.attributes(),
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error; // not ours (any more): nothing to release
  }
};

/** Records the plan once; the same plan again is accepted, a different one refused. */
export const commitPlan = async (
  ctx: TableContext,
  id: string,
  plan: { batchesTotal: number; itemsPlanned: number; at: string },
): Promise<boolean> => {
  const won = await updateRun(
    ctx,
    id,
    { batchesTotal: plan.batchesTotal, itemsPlanned: plan.itemsPlanned, lastProgressAt: plan.at },
    (e) => `${mustExist(e)} AND attribute_not_exists(${e.path('batchesTotal')})`,
  );
  if (won) return true;
  const run = await getRun(ctx, id);
  if (run === undefined) throw new RunNotFoundError(id);
  return run.batchesTotal === plan.batchesTotal && run.itemsPlanned === plan.itemsPlanned;
};

export const notePlanning = (
  ctx: TableContext,
  id: string,
  update: { at: string; checkpointed?: boolean; batchesQueued?: number },
): Promise<void> =>
  setRunFields(ctx, id, {
    lastProgressAt: update.at,
    ...(update.checkpointed ? { checkpointed: true } : {}),
    ...(update.batchesQueued === undefined ? {} : { batchesQueued: update.batchesQueued }),
  });

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
