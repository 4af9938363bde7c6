import { GetItemCommand, PutItemCommand, QueryCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { SnapshotChange, StoredSnapshotEntry } from '#lib/domain/snapshot.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import { batchWrite, deleteRequests, queryKeys } from './batch-write.ts';
import { CorruptItemError, fromItem, type Item, keys, type TableContext, toItem } from './records.ts';

const ContactItemSchema = z.object({ h: z.string(), e: z.string().optional() });
const MemberItemSchema = z.object({ s: z.string().min(1), u: z.boolean().optional() });

/**
 * One strongly consistent, paged Query over `SNAP#<exportId>`. DynamoDB returns every `C#` item
 * (sorted by key) before the `M#` items (grouped by segment), so a contact's memberships are only
 * complete at the end of the partition: entries are accumulated in one Map (key → entry) and yielded
 * afterwards, each dropped from the Map as it is yielded. Pages are not kept, so memory is
 * O(contacts × segments per contact) — at the 100,000 cap roughly 25–40 MB — never the partition twice.
 * A key with memberships but no `C#` item yields `hash: ''`.
 */
export async function* readSnapshot(ctx: TableContext, exportId: string): AsyncIterable<StoredSnapshotEntry> {
  const entries = new Map<string, StoredSnapshotEntry>();
  const entry = (key: string): StoredSnapshotEntry => {
    let found = entries.get(key);
    if (!found) {
      found = { key, hash: '', segmentIds: [] };
      entries.set(key, found);
    }
    return found;
  };
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: keys.snapshotPk(exportId) } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const sk = item.sk?.S ?? '';
      if (sk.startsWith('C#')) {
        const contact = fromItem(ContactItemSchema, item);
        const e = entry(sk.slice(2));
        e.hash = contact.h;
        if (contact.e !== undefined) e.email = contact.e;
      } else if (sk.startsWith('M#')) {
        const { s, u } = fromItem(MemberItemSchema, item);
        const prefix = `M#${s}#`;
        if (!sk.startsWith(prefix) || sk.length === prefix.length) {
          throw new CorruptItemError(
            { pk: keys.snapshotPk(exportId), sk },
            's',
            `does not match the sort key`,
          );
        }
        const e = entry(sk.slice(prefix.length));
        if (u === true) e.maybeSegmentIds = [...(e.maybeSegmentIds ?? []), s];
        else e.segmentIds.push(s);
      } else if (!sk.startsWith('L#')) {
        throw new CorruptItemError({ pk: keys.snapshotPk(exportId), sk }, 'sk', 'is not a snapshot item');
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
  for (const [key, e] of entries) {
    entries.delete(key);
    yield e;
  }
}

/**
 * Turns changes into item puts and deletes. Items are deduplicated per call by key, the last write
 * winning, so a contact listed twice never makes `BatchWriteItem` refuse a duplicate key.
 */
export const applySnapshot = async (
  ctx: TableContext,
  exportId: string,
  changes: readonly SnapshotChange[],
): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  const writes = new Map<string, WriteRequest>();
  const put = (sk: string, attributes: Record<string, string | boolean | undefined>): void => {
    writes.delete(sk); // re-insert, so the Map's order follows the last write
    writes.set(sk, { PutRequest: { Item: toItem({ pk, sk, ...attributes }) } });
  };
  const remove = (sk: string): void => {
    writes.delete(sk);
    writes.set(sk, { DeleteRequest: { Key: toItem({ pk, sk }) } });
  };
  for (const c of changes) {
    const contactSk = keys.contactSk(c.key);
    if (c.forget) remove(contactSk);
    else if (c.hash !== null) put(contactSk, { h: c.hash, e: c.email });
    for (const s of c.maybe ?? []) put(keys.memberSk(s, c.key), { s, u: true });
    for (const s of c.join) put(keys.memberSk(s, c.key), { s });
    for (const s of c.leave) remove(keys.memberSk(s, c.key));
  }
  await batchWrite(ctx, [...writes.values()]);
};

/** Deletes every snapshot item of an export (contacts, memberships, list pointers). */
export const deleteSnapshot = async (ctx: TableContext, exportId: string): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  await batchWrite(ctx, deleteRequests(await queryKeys(ctx, pk, '')));
};

const ListItemSchema = z.object({ s: z.string().min(1), l: z.string().min(1) });

/** The `L#<segmentId>` items: which destination list each segment's memberships refer to. */
export const snapshotLists = async (ctx: TableContext, exportId: string): Promise<Record<string, string>> => {
  const lists: Record<string, string> = {};
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)',
        ExpressionAttributeValues: { ':pk': { S: keys.snapshotPk(exportId) }, ':l': { S: 'L#' } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const { s, l } = fromItem(ListItemSchema, item);
      lists[s] = l;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return lists;
};

/**
 * Points a segment at a list; a different list than before drops the segment's memberships first
 * (one key-only Query on `M#<segmentId>#`, then batched deletes), then records the new list.
 */
export const setSnapshotList = async (
  ctx: TableContext,
  exportId: string,
  segmentId: string,
  listId: string,
): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  const current = await ctx.client.send(
    new GetItemCommand({
      TableName: ctx.tableName,
      Key: toItem({ pk, sk: keys.snapshotListSk(segmentId) }),
      ConsistentRead: true,
    }),
  );
  const previous = current.Item ? fromItem(ListItemSchema, current.Item).l : undefined;
  if (previous === listId) return;
  if (previous !== undefined) {
    await batchWrite(ctx, deleteRequests(await queryKeys(ctx, pk, `M#${segmentId}#`)));
  }
  await ctx.client.send(
    new PutItemCommand({
      TableName: ctx.tableName,
      Item: toItem({ pk, sk: keys.snapshotListSk(segmentId), s: segmentId, l: listId }),
    }),
  );
};

/** `Snapshots` on the state table: one `SNAP#<exportId>` partition per export (key design in ./README.md). */
export class DynamoDbSnapshots implements Snapshots {
  constructor(private readonly ctx: TableContext) {}

  read(exportId: string): AsyncIterable<StoredSnapshotEntry> {
    return readSnapshot(this.ctx, exportId);
  }

  apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    return applySnapshot(this.ctx, exportId, changes);
  }

  delete(exportId: string): Promise<void> {
    return deleteSnapshot(this.ctx, exportId);
  }

  lists(exportId: string): Promise<Record<string, string>> {
    return snapshotLists(this.ctx, exportId);
  }

  setList(exportId: string, segmentId: string, listId: string): Promise<void> {
    return setSnapshotList(this.ctx, exportId, segmentId, listId);
  }
}
