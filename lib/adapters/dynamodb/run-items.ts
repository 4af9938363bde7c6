import { BatchGetItemCommand, type BatchGetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { TransientError } from '#lib/domain/errors.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { backoff, CorruptItemError, type Item, keys, type TableContext, toItem } from './records.ts';

/**
 * A run is two items of one partition, read together by one Query on `begins_with(sk, 'META')`:
 * `META`, small, holding what changes while the run runs (every recorded range's transaction adds
 * its counters there, and DynamoDB prices that write on the item's size, twice); and `META#DETAIL`,
 * holding what is written once or rarely and weighs kilobytes (the frozen config, planning stats,
 * estimate, hold, drift, named contacts), which is also the item GSI1 lists runs by, so the hot
 * item's updates never write the index. Runs recorded before the split are one `META` item with
 * everything (and the GSI keys); readers take both layouts.
 */
export const RUN_DETAIL_SK = 'META#DETAIL';

export const runDetailKey = (id: string): { pk: string; sk: string } => ({
  pk: keys.run(id).pk,
  sk: RUN_DETAIL_SK,
});

/** A run's GSI1 sort key: newest first in a descending Query, the id breaking ties. */
export const runGsiSk = (run: Pick<RunRecord, 'createdAt' | 'id'>): string => `${run.createdAt}#${run.id}`;

/** The fields the hot `META` item keeps; every other field of a run lives on `META#DETAIL`. */
const HOT_FIELDS: ReadonlySet<string> = new Set<keyof RunRecord>([
  'status',
  'reason',
  'finishedAt',
  'durationMs',
  'planningFinishedAt',
  'planningDone',
  'batchesTotal',
  'itemsPlanned',
  'batchesQueued',
  'checkpointed',
  'planLease',
  'lastProgressAt',
  'cancelRequested',
  'progress',
]);

export const isHotField = (field: string): boolean => HOT_FIELDS.has(field);

/** Splits fields into those of the hot item and those of the detail item (undefined values dropped). */
export const splitFields = (
  fields: Record<string, unknown>,
): { hot: Record<string, unknown>; detail: Record<string, unknown> } => {
  const hot: Record<string, unknown> = {};
  const detail: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    (isHotField(k) ? hot : detail)[k] = v;
  }
  return { hot, detail };
};

const isDetail = (item: Item): boolean => item.sk?.S === RUN_DETAIL_SK;

/**
 * One run from its items (as the Query returns them, in any order); undefined without a `META`
 * item. The detail's fields win over a pre-split `META` that still holds a stale copy.
 */
export const mergeRunItems = (items: readonly Item[]): Item | undefined => {
  const meta = items.find((i) => i.sk?.S === 'META');
  if (meta === undefined) return undefined;
  const detail = items.find(isDetail);
  return detail === undefined ? meta : ({ ...meta, ...detail, pk: meta.pk, sk: meta.sk } as Item);
};

const BATCH_GET_LIMIT = 100;
const UNPROCESSED_ATTEMPTS = 8;

/**
 * Runs listed through GSI1, completed: a detail item gets its hot `META` (strongly consistent
 * BatchGetItem, one call per 100 runs), a pre-split `META` is complete already. Order is kept.
 */
export const completeListedRuns = async (ctx: TableContext, listed: readonly Item[]): Promise<Item[]> => {
  const wanted = listed.filter(isDetail).map((i) => i.pk?.S ?? '');
  const hot = new Map<string, Item>();
  for (let at = 0; at < wanted.length; at += BATCH_GET_LIMIT) {
    let keysLeft: Item[] | undefined = wanted
      .slice(at, at + BATCH_GET_LIMIT)
      .map((pk) => toItem({ pk, sk: 'META' }));
    for (let attempt = 0; keysLeft?.length; attempt++) {
      if (attempt >= UNPROCESSED_ATTEMPTS)
        throw new TransientError('Run items still unprocessed after retries');
      if (attempt > 0) await backoff(ctx.clock, attempt);
      const out: BatchGetItemCommandOutput = await ctx.client.send(
        new BatchGetItemCommand({
          RequestItems: { [ctx.tableName]: { Keys: keysLeft, ConsistentRead: true } },
        }),
      );
      for (const item of out.Responses?.[ctx.tableName] ?? []) hot.set(item.pk?.S ?? '', item);
      keysLeft = out.UnprocessedKeys?.[ctx.tableName]?.Keys;
    }
  }
  return listed.map((item) => {
    if (!isDetail(item)) return item;
    const pk = item.pk?.S ?? '';
    const meta = hot.get(pk);
    // Both items are created in one transaction and never deleted: a detail alone is damage.
    if (meta === undefined)
      throw new CorruptItemError({ pk, sk: RUN_DETAIL_SK }, '(item)', 'has no META item');
    return mergeRunItems([meta, item]) as Item;
  });
};
