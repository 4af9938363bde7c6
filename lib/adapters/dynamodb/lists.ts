import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ListMapping, ListRegistry } from '#lib/ports/list-registry.ts';
import { deleteItem, getItem } from './item-ops.ts';
import {
  Expr,
  isConditionFailed,
  keys,
  ListMappingItemSchema,
  type TableContext,
  toItem,
} from './records.ts';

/** `ListRegistry` on the state table: `CONN#<id>` / `LIST#<title>` holds a list id or a creation claim. */
export class DynamoDbListRegistry implements ListRegistry {
  constructor(private readonly ctx: TableContext) {}

  get(connectionId: string, title: string): Promise<ListMapping | undefined> {
    return getItem(this.ctx, keys.list(connectionId, title), ListMappingItemSchema);
  }

  /** Claims list creation unless the list exists or another run's claim is younger than `staleBefore`. */
  async claim(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean> {
    const e = new Expr();
    const ConditionExpression =
      `attribute_not_exists(${e.path('pk')}) OR (attribute_not_exists(${e.path('listId')}) AND ` +
      `(${e.path('claimedAt')} < ${e.value(staleBefore)} OR ${e.path('claimedBy')} = ${e.value(runId)}))`;
    try {
      await this.ctx.client.send(
        new PutItemCommand({
          TableName: this.ctx.tableName,
          Item: toItem({ ...keys.list(connectionId, title), claimedBy: runId, claimedAt: now }),
          ConditionExpression,
          ...e.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async save(connectionId: string, title: string, listId: string): Promise<void> {
    await this.ctx.client.send(
      new PutItemCommand({
        TableName: this.ctx.tableName,
        Item: toItem({ ...keys.list(connectionId, title), listId }),
      }),
    );
  }

  forget(connectionId: string, title: string): Promise<void> {
    return deleteItem(this.ctx, keys.list(connectionId, title));
  }
}
