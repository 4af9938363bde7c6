import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type * as z from 'zod';
import { Expr, fromItem, type Item, isConditionFailed, type TableContext, toItem } from './records.ts';

/** An item's primary key. */
export type Key = { pk: string; sk: string };

/** A strongly consistent read, validated with `schema` (undefined when absent). */
export const getItem = async <S extends z.ZodType>(
  ctx: TableContext,
  key: Key,
  schema: S,
): Promise<z.output<S> | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({ TableName: ctx.tableName, Key: toItem(key), ConsistentRead: true }),
  );
  return out.Item && fromItem(schema, out.Item);
};

export const deleteItem = async (ctx: TableContext, key: Key): Promise<void> => {
  await ctx.client.send(new DeleteItemCommand({ TableName: ctx.tableName, Key: toItem(key) }));
};

/** A PutItem that only creates: false when an item with this key exists. */
export const createItem = async (ctx: TableContext, item: Record<string, unknown>): Promise<boolean> => {
  try {
    await ctx.client.send(
      new PutItemCommand({
        TableName: ctx.tableName,
        Item: toItem(item),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};

/** A conditional UpdateItem; false when the condition did not hold. */
export const updateItem = async (
  ctx: TableContext,
  key: Key,
  build: (e: Expr) => { update: string; condition: string },
): Promise<boolean> => {
  const e = new Expr();
  const { update, condition } = build(e);
  try {
    await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(key),
        UpdateExpression: update,
        ConditionExpression: condition,
        ...e.attributes(),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};

/**
 * A person's edit of a versioned record: sets the edited fields, `updatedBy`/`updatedAt` and
 * `version + 1` if the stored version is `expectVersion`, in one UpdateItem that touches nothing
 * else (the system's own fields stay as stored). The record as it now stands, or undefined when the
 * version moved (or the item is gone).
 */
export const reviseItem = async <S extends z.ZodType>(
  ctx: TableContext,
  key: Key,
  schema: S,
  expectVersion: number,
  edit: Record<string, unknown>,
  stamp: { by: string; at: string },
): Promise<z.output<S> | undefined> => {
  const e = new Expr();
  const set = Object.entries({ ...edit, updatedBy: stamp.by, updatedAt: stamp.at })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${e.path(k)} = ${e.value(v)}`);
  try {
    const out = await ctx.client.send(
      new UpdateItemCommand({
        TableName: ctx.tableName,
        Key: toItem(key),
        UpdateExpression: `SET ${set.join(', ')} ADD ${e.path('version')} ${e.value(1)}`,
        ConditionExpression: `${e.path('version')} = ${e.value(expectVersion)}`,
        ReturnValues: 'ALL_NEW',
        ...e.attributes(),
      }),
    );
    return out.Attributes && fromItem(schema, out.Attributes);
  } catch (error) {
    if (isConditionFailed(error)) return undefined;
    throw error;
  }
};

/** Every item of a GSI1 partition (small partitions: the connections, the exports). */
export const queryIndex = async (ctx: TableContext, gsi1pk: string): Promise<Item[]> => {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: gsi1pk } },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
};
