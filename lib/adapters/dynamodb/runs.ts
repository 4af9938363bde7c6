import { QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type RunRecord, RunRecordSchema } from '#lib/domain/run-record.ts';
import type { Runs } from '#lib/ports/runs.ts';
import { updateItem } from './item-ops.ts';
import {
  cancellationCodes,
  Expr,
  errorName,
  fromItem,
  isConditionFailed,
  keys,
  type TableContext,
  toItem,
} from './records.ts';
import { mergeRunItems, runDetailKey, runGsiSk, splitFields } from './run-items.ts';
import { listRuns } from './run-list.ts';

type Patch = Partial<
  Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt' | 'hold' | 'lastProgressAt'>
>;

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`Run ${runId} does not exist`);
  }
}

/** Both items of the run in one transaction: a run never exists without its frozen config. */
export const createRun = async (ctx: TableContext, run: RunRecord): Promise<void> => {
  const { hot, detail } = splitFields({
    ...run,
    // The counter maps must exist before `ADD progress.requests.#kind` can target a path inside them.
    progress: {
      ...run.progress,
      failedByReason: run.progress.failedByReason ?? {},
      requests: run.progress.requests ?? {},
    },
  });
  const put = (item: Record<string, unknown>) => ({
    Put: { TableName: ctx.tableName, Item: toItem(item), ConditionExpression: 'attribute_not_exists(pk)' },
  });
  try {
    await ctx.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          put({ ...hot, ...keys.run(run.id) }),
          put({ ...detail, ...runDetailKey(run.id), gsi1pk: `RUNS#${run.exportId}`, gsi1sk: runGsiSk(run) }),
        ],
      }),
    );
  } catch (error) {
    if (cancellationCodes(error).includes('ConditionalCheckFailed'))
      throw new Error(`Run ${run.id} already exists`);
    throw error;
  }
};

/** One strongly consistent Query for both items of the run (`META`, `META#DETAIL`). */
export const getRun = async (ctx: TableContext, id: string): Promise<RunRecord | undefined> => {
  const out = await ctx.client.send(
    new QueryCommand({
      TableName: ctx.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :meta)',
      ExpressionAttributeValues: { ':pk': { S: keys.run(id).pk }, ':meta': { S: 'META' } },
      ConsistentRead: true,
    }),
  );
  const item = mergeRunItems(out.Items ?? []);
  return item && fromItem(RunRecordSchema, item);
};

/** `SET` of the fields of `set`, through placeholders. */
const assignments = (e: Expr, set: Record<string, unknown>): string =>
  `SET ${Object.entries(set)
    .map(([k, v]) => `${e.path(k)} = ${e.value(v)}`)
    .join(', ')}`;

/** Sets the defined fields of `set` on the run's `META` item; `condition` decides whether it may. */
export const updateRun = async (
  ctx: TableContext,
  id: string,
  set: Record<string, unknown>,
  condition: (e: Expr) => string,
): Promise<boolean> => {
  const e = new Expr();
  const UpdateExpression = assignments(
    e,
    Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined)),
  );
  const ConditionExpression = condition(e);
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.run(id)),
        UpdateExpression,
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

/** The status condition of a transition: the run's status is one of `from`. */
const statusIn =
  (from: readonly RunRecord['status'][]) =>
  (e: Expr): string =>
    `${e.path('status')} IN (${[...new Set(from)].map((s) => e.value(s)).join(', ')})`;

export const transitionRun = async (
  ctx: TableContext,
  id: string,
  from: readonly RunRecord['status'][],
  to: RunRecord['status'],
  patch: Patch = {},
): Promise<boolean> => {
  if (from.length === 0) return false;
  const { hot, detail } = splitFields({ ...patch, status: to });
  if (Object.keys(detail).length === 0) return updateRun(ctx, id, hot, statusIn(from));
  // A hold rides with its status change: both or neither, the status condition on the hot item.
  const e = new Expr();
  const d = new Expr();
  try {
    await ctx.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: ctx.tableName,
              Key: toItem(keys.run(id)),
              UpdateExpression: assignments(e, hot),
              ConditionExpression: statusIn(from)(e),
              ...e.attributes(),
            },
          },
          {
            Update: {
              TableName: ctx.tableName,
              Key: toItem(runDetailKey(id)),
              UpdateExpression: assignments(d, detail),
              ConditionExpression: mustExist(d),
              ...d.attributes(),
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) !== 'TransactionCanceledException') throw error;
    const [status, detailItem] = cancellationCodes(error);
    if (status === 'ConditionalCheckFailed') return false;
    // A run recorded before the split keeps everything on `META`.
    if (detailItem === 'ConditionalCheckFailed')
      return updateRun(ctx, id, { ...hot, ...detail }, statusIn(from));
    throw error;
  }
};

/**
 * Sets fields on whichever item holds them: the detail first, so whoever sees the hot item's news
 * (`planningDone`) finds the figures that came with it.
 */
export const setRunFields = async (
  ctx: TableContext,
  id: string,
  set: Record<string, unknown>,
): Promise<void> => {
  const { hot, detail } = splitFields(set);
  if (Object.keys(detail).length > 0) {
    const onDetail = await updateItem(ctx, runDetailKey(id), (e) => ({
      update: assignments(e, detail),
      condition: mustExist(e),
    }));
    // No detail item: a run recorded before the split (all on `META`), or no run at all.
    if (!onDetail) Object.assign(hot, detail);
    else if (Object.keys(hot).length === 0) return;
  }
  const exists =
    Object.keys(hot).length > 0
      ? await updateRun(ctx, id, hot, mustExist)
      : (await getRun(ctx, id)) !== undefined;
  if (!exists) throw new RunNotFoundError(id);
};

/** `Runs` on the state table: `RUN#<id>` / `META` (hot) and `META#DETAIL` (listed through GSI1). */
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
