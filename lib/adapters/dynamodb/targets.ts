import {
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { MembershipTarget } from '#lib/domain/membership-targets.ts';
import type { TargetOwners } from '#lib/ports/target-owners.ts';
import {
  errorName,
  fromItem,
  type Item,
  isConditionFailed,
  keys,
  type TableContext,
  toItem,
} from './records.ts';

const OwnerItemSchema = z.object({ exportId: z.string().min(1) });

/**
 * Reserves every target in one transaction (at most 25 segments, so ≤ 25 items): either all are now
 * the export's, or none changed and the answer names the ones other exports hold.
 */
export const claimTargets = async (
  ctx: TableContext,
  connectionId: string,
  exportId: string,
  targets: readonly MembershipTarget[],
): Promise<Array<MembershipTarget & { owner: string }>> => {
  if (targets.length === 0) return [];
  const items: TransactWriteItem[] = targets.map((t) => ({
    Put: {
      TableName: ctx.tableName,
      Item: toItem({ ...keys.target(connectionId, t.kind, t.name), exportId }),
      ConditionExpression: 'attribute_not_exists(pk) OR exportId = :me',
      ExpressionAttributeValues: toItem({ ':me': exportId }),
    },
  }));
  try {
    await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    return [];
  } catch (error) {
    if (errorName(error) !== 'TransactionCanceledException') throw error;
    const owners = await targetOwners(ctx, connectionId, targets);
    const conflicts = targets.flatMap((t, i) => {
      const owner = owners[i];
      return owner !== undefined && owner !== exportId ? [{ ...t, owner }] : [];
    });
    // Cancelled for another reason (a concurrent claim that has since gone): the caller retries.
    if (conflicts.length === 0) throw error;
    return conflicts;
  }
};

/** Every target `exportId` holds on the connection (one Query of its `OWN#` items), minus `keep`. */
export const releaseTargets = async (
  ctx: TableContext,
  connectionId: string,
  exportId: string,
  keep: readonly MembershipTarget[] = [],
): Promise<void> => {
  const kept = new Set(keep.map((t) => keys.target(connectionId, t.kind, t.name).sk));
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :own)',
        FilterExpression: 'exportId = :me',
        ExpressionAttributeValues: toItem({ ':pk': `CONN#${connectionId}`, ':own': 'OWN#', ':me': exportId }),
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const sk = item.sk?.S;
      if (sk === undefined || kept.has(sk)) continue;
      try {
        await ctx.client.send(
          new DeleteItemCommand({
            TableName: ctx.tableName,
            Key: { pk: { S: `CONN#${connectionId}` }, sk: { S: sk } },
            ConditionExpression: 'exportId = :me',
            ExpressionAttributeValues: toItem({ ':me': exportId }),
          }),
        );
      } catch (error) {
        if (!isConditionFailed(error)) throw error; // taken over meanwhile: leave it
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
};

export const targetOwners = async (
  ctx: TableContext,
  connectionId: string,
  targets: readonly MembershipTarget[],
): Promise<Array<string | undefined>> => {
  const owners: Array<string | undefined> = [];
  for (const t of targets) {
    const out = await ctx.client.send(
      new GetItemCommand({
        TableName: ctx.tableName,
        Key: toItem(keys.target(connectionId, t.kind, t.name)),
        ConsistentRead: true,
      }),
    );
    owners.push(out.Item === undefined ? undefined : fromItem(OwnerItemSchema, out.Item).exportId);
  }
  return owners;
};

/** `TargetOwners` on the state table: `CONN#<id>` / `OWN#<kind>#<name>` names the owning export. */
export class DynamoDbTargetOwners implements TargetOwners {
  constructor(private readonly ctx: TableContext) {}

  claim(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>> {
    return claimTargets(this.ctx, connectionId, exportId, targets);
  }

  release(connectionId: string, exportId: string, keep?: readonly MembershipTarget[]): Promise<void> {
    return releaseTargets(this.ctx, connectionId, exportId, keep);
  }

  owners(connectionId: string, targets: readonly MembershipTarget[]): Promise<Array<string | undefined>> {
    return targetOwners(this.ctx, connectionId, targets);
  }
}
