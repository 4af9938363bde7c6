import { BatchWriteItemCommand, QueryCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { TransientError } from '#lib/domain/errors.ts';
import { backoff, type Item, type TableContext } from './records.ts';

const PER_CALL = 25;
const MAX_ATTEMPTS = 8;

/**
 * Writes puts/deletes with `BatchWriteItem`, 25 per call and `concurrency` calls at a time,
 * retrying unprocessed items with jittered backoff. Callers must not list one key twice.
 */
export const batchWrite = async (
  ctx: TableContext,
  requests: readonly WriteRequest[],
  concurrency = 4,
): Promise<void> => {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += PER_CALL) chunks.push(requests.slice(i, i + PER_CALL));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) await writeChunk(ctx, chunk);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
};

const writeChunk = async (ctx: TableContext, chunk: WriteRequest[]): Promise<void> => {
  let pending = chunk;
  for (let attempt = 0; ; attempt++) {
    const out = await ctx.client.send(
      new BatchWriteItemCommand({ RequestItems: { [ctx.tableName]: pending } }),
    );
    const unprocessed = out.UnprocessedItems?.[ctx.tableName] ?? [];
    if (unprocessed.length === 0) return;
    if (attempt + 1 >= MAX_ATTEMPTS) {
      throw new TransientError(
        `DynamoDB left ${unprocessed.length} writes unprocessed after ${MAX_ATTEMPTS} attempts`,
      );
    }
    pending = unprocessed;
    await backoff(ctx.clock, attempt);
  }
};

/**
 * Every key (`pk`, `sk`) in `pk` whose sort key starts with `prefix` (all of them for ''), strongly
 * consistent.
 */
export const queryKeys = async (ctx: TableContext, pk: string, prefix: string): Promise<Item[]> => {
  const found: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        // DynamoDB refuses an empty begins_with operand.
        KeyConditionExpression: prefix === '' ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': { S: pk },
          ...(prefix === '' ? {} : { ':prefix': { S: prefix } }),
        },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    found.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
};

export const deleteRequests = (itemKeys: readonly Item[]): WriteRequest[] =>
  itemKeys.map((Key) => ({ DeleteRequest: { Key: { pk: Key.pk ?? { S: '' }, sk: Key.sk ?? { S: '' } } } }));
