import { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '#lib/domain/errors.ts';
import { type RunRecord, RunRecordSchema } from '#lib/domain/run-record.ts';
import type { Runs } from '#lib/ports/runs.ts';
import { Expr, fromItem, type Item, isConditionFailed, keys, type TableContext, toItem } from './records.ts';

type Patch = Partial<
  Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt' | 'hold' | 'lastProgressAt'>
>;

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
export const updateRun = async (
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

export const mustExist = (e: Expr): string => `attribute_exists(${e.path('pk')})`;

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

/** `Runs` on the state table: one `RUN#<id>` / `META` item per run, listed through GSI1. */
export class DynamoDbRuns implements Runs {
  constructor(private readonly ctx: TableContext) {}

  create(run: RunRecord): Promise<void> {
    return createRun(this.ctx, run);
  }

  get(id: string): Promise<RunRecord | undefined> {
    return getRun(this.ctx, id);
  }

  list(exportId: string, limit: number, cursor?: string): Promise<{ runs: RunRecord[]; next?: string }> {
    return listRuns(this.ctx, exportId, limit, cursor);
  }

  transition(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch?: Patch,
  ): Promise<boolean> {
    return transitionRun(this.ctx, id, from, to, patch);
  }

  requestCancel(id: string): Promise<void> {
    return setRunFields(this.ctx, id, { cancelRequested: true });
  }
}
