import { PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type {
  RefreshEntry,
  Refreshes,
  RefreshSegmentFacts,
  RefreshStatus,
  SegmentRefresh,
} from '#lib/ports/refreshes.ts';
import { batchWrite } from './batch-write.ts';
import { createItem, getItem, updateItem } from './item-ops.ts';
import { Expr, fromItem, type Item, isConditionFailed, keys, type TableContext, toItem } from './records.ts';

const RefreshItemSchema = z.object({
  refreshId: z.string().min(1),
  outcome: z.enum(['complete', 'rejected']),
  createdAt: z.string().min(1).optional(),
  arrivedAt: z.string().min(1),
  segmentIds: z.array(z.string()),
  reasons: z.array(z.string()).optional(),
  settledAt: z.string().min(1).optional(),
  lease: z.object({ holder: z.string(), until: z.string() }).optional(),
});

const FactsSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  profiles: z.number().int().nonnegative(),
  attributes: z.array(z.string()),
});

const SegmentRefreshItemSchema = z.object({
  refreshId: z.string().min(1),
  createdAt: z.string().min(1),
  segment: FactsSchema,
});

/** Catalog items written at once: each is its own conditional PutItem. */
const CATALOG_CONCURRENCY = 8;

/**
 * `Refreshes` on the state table (./README.md): `REFRESH#<id>` / `META` records a refresh once and
 * carries its follow-up lease and `settledAt`; per segment of a complete refresh, one
 * `REFSEG#<segmentId>` item sorted by creation instant answers `newestFor` with one Query, and one
 * `SEGCAT` item, replaced only by a newer refresh, answers `latestSegments` with one Query.
 */
export class DynamoDbRefreshes implements Refreshes {
  constructor(private readonly ctx: TableContext) {}

  async record(refresh: RefreshEntry): Promise<'new' | 'seen'> {
    const key = keys.refresh(refresh.refreshId);
    // A re-upload must not add its segments to the refresh first recorded under the id.
    if ((await getItem(this.ctx, key, RefreshItemSchema)) !== undefined) return 'seen';
    const { refreshId, arrivedAt } = refresh;
    if (refresh.outcome === 'rejected') {
      const created = await createItem(this.ctx, {
        ...key,
        refreshId,
        outcome: 'rejected',
        createdAt: refresh.createdAt,
        arrivedAt,
        segmentIds: [],
        reasons: [...refresh.reasons],
      });
      return created ? 'new' : 'seen';
    }
    // The segment items go first and are idempotent: a crash before the record below leaves the id
    // unrecorded, so the retry writes them again and still answers `new`.
    const { createdAt, segments } = refresh;
    await batchWrite(
      this.ctx,
      uniqueById(segments).map((segment) => ({
        PutRequest: {
          Item: toItem({
            pk: keys.segmentRefreshPk(segment.id),
            sk: keys.segmentRefreshSk(createdAt, refreshId),
            refreshId,
            createdAt,
            segment,
          }),
        },
      })),
    );
    await this.catalog(refreshId, createdAt, uniqueById(segments));
    const created = await createItem(this.ctx, {
      ...key,
      refreshId,
      outcome: 'complete',
      createdAt,
      arrivedAt,
      segmentIds: segments.map((s) => s.id),
    });
    return created ? 'new' : 'seen';
  }

  async get(refreshId: string): Promise<RefreshStatus | undefined> {
    const item = await getItem(this.ctx, keys.refresh(refreshId), RefreshItemSchema);
    if (item === undefined) return undefined;
    const { lease: _lease, ...status } = item;
    return status;
  }

  lease(refreshId: string, holder: string, now: string, until: string): Promise<boolean> {
    return updateItem(this.ctx, keys.refresh(refreshId), (e) => ({
      update: `SET ${e.path('lease')} = ${e.value({ holder, until })}`,
      condition:
        `attribute_exists(pk) AND attribute_not_exists(${e.path('settledAt')}) AND ` +
        `(attribute_not_exists(${e.path('lease')}) OR ${e.path('lease', 'until')} < ${e.value(now)} OR ` +
        `${e.path('lease', 'holder')} = ${e.value(holder)})`,
    }));
  }

  async settle(refreshId: string, at: string): Promise<void> {
    const e = new Expr();
    const settledAt = e.path('settledAt');
    try {
      await this.ctx.client.send(
        new UpdateItemCommand({
          TableName: this.ctx.tableName,
          Key: toItem(keys.refresh(refreshId)),
          UpdateExpression: `SET ${settledAt} = if_not_exists(${settledAt}, ${e.value(at)}) REMOVE ${e.path('lease')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...e.attributes(),
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error; // never recorded: nothing to settle
    }
  }

  async newestFor(segmentId: string): Promise<SegmentRefresh | undefined> {
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
    return item && fromItem(SegmentRefreshItemSchema, item);
  }

  async latestSegments(): Promise<SegmentRefresh[]> {
    const found: SegmentRefresh[] = [];
    let start: Item | undefined;
    do {
      const out = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: toItem({ ':pk': keys.segmentCatalogPk }),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of out.Items ?? []) found.push(fromItem(SegmentRefreshItemSchema, item));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * Puts each segment's catalog item unless the catalog already holds a newer (or this) refresh of
   * it, so refreshes recorded in any order, or at once, leave the newest in place.
   */
  private async catalog(
    refreshId: string,
    createdAt: string,
    segments: RefreshSegmentFacts[],
  ): Promise<void> {
    const order = keys.segmentRefreshSk(createdAt, refreshId);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let segment = segments[next++]; segment; segment = segments[next++]) {
        try {
          await this.ctx.client.send(
            new PutItemCommand({
              TableName: this.ctx.tableName,
              Item: toItem({ ...keys.segmentCatalog(segment.id), order, refreshId, createdAt, segment }),
              ConditionExpression: 'attribute_not_exists(pk) OR #order < :order',
              ExpressionAttributeNames: { '#order': 'order' },
              ExpressionAttributeValues: toItem({ ':order': order }),
            }),
          );
        } catch (error) {
          if (!isConditionFailed(error)) throw error; // a newer refresh holds it already
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CATALOG_CONCURRENCY, segments.length) }, worker));
  }
}

/** The manifest forbids duplicate segment ids; a direct caller's duplicates would break BatchWriteItem. */
const uniqueById = (segments: readonly RefreshSegmentFacts[]): RefreshSegmentFacts[] => [
  ...new Map(segments.map((s) => [s.id, s])).values(),
];
