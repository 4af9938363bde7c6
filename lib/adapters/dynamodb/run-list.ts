import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '#lib/domain/errors.ts';
import { type RunRecord, RunRecordSchema } from '#lib/domain/run-record.ts';
import { fromItem, type Item, keys, type TableContext, toItem } from './records.ts';
import { completeListedRuns, RUN_DETAIL_SK, runDetailKey, runGsiSk } from './run-items.ts';

/** Marks a cursor whose run is listed by its `META#DETAIL` item (a pre-split run: by its `META`). */
const DETAIL_CURSOR = 'D#';

const encodeCursor = (sk: string | undefined, gsi1sk: string): string =>
  Buffer.from(`${sk === RUN_DETAIL_SK ? DETAIL_CURSOR : ''}${gsi1sk}`, 'utf8').toString('base64url');

const decodeCursor = (exportId: string, cursor: string): Item => {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // The start key must be the listed item's own key: DynamoDB does not promise where a key that is
  // not in the index falls among items with the same index sort key.
  const detail = text.startsWith(DETAIL_CURSOR);
  const gsi1sk = detail ? text.slice(DETAIL_CURSOR.length) : text;
  const hash = gsi1sk.indexOf('#');
  if (hash < 1 || hash === gsi1sk.length - 1) {
    throw new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  const id = gsi1sk.slice(hash + 1);
  return toItem({ ...(detail ? runDetailKey(id) : keys.run(id)), gsi1pk: `RUNS#${exportId}`, gsi1sk });
};

/**
 * Newest first from GSI1. The cursor is the base64 of the last returned run's index sort key, marked
 * when that run is listed by its detail item (from which its full `LastEvaluatedKey` is rebuilt); it
 * is only returned when more runs follow. GSIs are
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
  const page = await completeListedRuns(ctx, items.slice(0, limit));
  const runs = page.map((item) => fromItem(RunRecordSchema, item));
  const last = runs[runs.length - 1];
  return items.length > limit && last
    ? { runs, next: encodeCursor(items[runs.length - 1]?.sk?.S, runGsiSk(last)) }
    : { runs };
};
