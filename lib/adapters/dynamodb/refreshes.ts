import { QueryCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { RefreshEntry, Refreshes } from '#lib/ports/refreshes.ts';
import { batchWrite } from './batch-write.ts';
import { createItem, getItem } from './item-ops.ts';
import { fromItem, keys, type TableContext, toItem } from './records.ts';

const RefreshItemSchema = z.object({
  refreshId: z.string().min(1),
  createdAt: z.string().min(1),
  segmentIds: z.array(z.string()),
  arrivedAt: z.string().min(1),
});

const SegmentRefreshItemSchema = z.object({ refreshId: z.string().min(1), createdAt: z.string().min(1) });

/**
 * `Refreshes` on the state table (./README.md): `REFRESH#<id>` / `META` records a refresh once, and
 * one `REFSEG#<segmentId>` item per segment, sorted by creation instant, answers `newestFor` with one
 * Query.
 */
export class DynamoDbRefreshes implements Refreshes {
  constructor(private readonly ctx: TableContext) {}

  async record(refresh: RefreshEntry): Promise<'new' | 'seen'> {
    const key = keys.refresh(refresh.refreshId);
    // A re-upload must not add its segments to the refresh first recorded under the id.
    if ((await getItem(this.ctx, key, RefreshItemSchema)) !== undefined) return 'seen';
    // The segment items go first and are idempotent: a crash before the record below leaves the id
    // unrecorded, so the retry writes them again and still answers `new`.
    const { refreshId, createdAt } = refresh;
    await batchWrite(
      this.ctx,
      [...new Set(refresh.segmentIds)].map((segmentId) => ({
        PutRequest: {
          Item: toItem({
            pk: keys.segmentRefreshPk(segmentId),
            sk: keys.segmentRefreshSk(createdAt, refreshId),
            refreshId,
            createdAt,
          }),
        },
      })),
    );
    const created = await createItem(this.ctx, {
      ...key,
      refreshId,
      createdAt,
      segmentIds: [...refresh.segmentIds],
      arrivedAt: refresh.arrivedAt,
    });
    return created ? 'new' : 'seen';
  }

  async newestFor(segmentId: string): Promise<{ refreshId: string; createdAt: string } | undefined> {
    const out = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: toItem({ ':pk': keys.segmentRefreshPk(segmentId) }),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (item === undefined) return undefined;
    const { refreshId, createdAt } = fromItem(SegmentRefreshItemSchema, item);
    return { refreshId, createdAt };
  }
}
