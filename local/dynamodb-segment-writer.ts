import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MAX_ATTRIBUTE_NAME, MAX_SEGMENT_ATTRIBUTES } from '#lib/adapters/segments/attribute-names.ts';
import { SegmentNotFoundError } from '#lib/adapters/segments/errors.ts';
import {
  ATTRIBUTES,
  memberSk,
  SEGMENT_ATTRIBUTES,
  SEGMENTS_PK,
  segmentPk,
} from '#lib/adapters/segments/segment-table.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { TransientError } from '#lib/domain/errors.ts';

export interface DynamoDbSegmentWriterOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Chunks of 100 members written at once (default 4). */
  concurrency?: number;
  /** Rounds of retrying unprocessed items before giving up (default 8, backing off from 25 ms). */
  maxRetries?: number;
}

const GET_CHUNK = 100; // BatchGetItem's limit
const WRITE_CHUNK = 25; // BatchWriteItem's limit

type Key = Record<string, AttributeValue>;

/**
 * Writes the segment table the way upstream segmentation does: used by local seeding and tests.
 * Keeps each segment's `profiles` count exact by looking up which members already exist before
 * writing and `ADD`ing the difference. Assumes one writer per segment at a time (upstream's
 * refresh job); two concurrent writers could count one member twice.
 */
export class DynamoDbSegmentWriter {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly concurrency: number;
  private readonly maxRetries: number;

  constructor(options: DynamoDbSegmentWriterOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.concurrency = options.concurrency ?? 4;
    this.maxRetries = options.maxRetries ?? 8;
  }

  /** Creates or renames a segment; its count starts at 0 and is kept otherwise. */
  async putSegment(segment: { id: string; name: string }): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: SEGMENTS_PK }, sk: { S: segment.id } },
        UpdateExpression: 'SET #name = :name, profiles = if_not_exists(profiles, :zero)',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': { S: segment.name }, ':zero': { N: '0' } },
      }),
    );
  }

  /**
   * Puts (adds or replaces) members; a profile id given twice keeps its last attributes. The
   * segment item keeps the attribute names members carry (at most 200), for pickers to offer.
   */
  async putMembers(
    segmentId: string,
    profiles: readonly SourceProfile[],
  ): Promise<{ added: number; replaced: number }> {
    const known = await this.requireSegment(segmentId);
    const byId = new Map<string, SourceProfile>();
    for (const p of profiles) byId.set(p.id, p);
    const pk = segmentPk(segmentId);
    // Marshal everything first: a bad attribute fails the call before anything is written.
    const items = [...byId.values()].map((p) => {
      try {
        return {
          pk: { S: pk },
          sk: { S: memberSk(p.id) },
          [ATTRIBUTES]: { M: marshall(p.attributes, { removeUndefinedValues: true }) },
        };
      } catch (error) {
        throw new TypeError(`Profile "${p.id}": ${(error as Error).message}`);
      }
    });
    // Into an empty segment (a first seed) every member is new: no need to look them up.
    const empty = await this.isEmpty(pk);
    let added = 0;
    // The count follows what was written even when a later chunk fails.
    try {
      await this.inChunks(items, GET_CHUNK, async (chunk) => {
        const existing = empty ? 0 : await this.countExisting(chunk.map((i) => ({ pk: i.pk, sk: i.sk })));
        await this.batchWrite(chunk.map((Item) => ({ PutRequest: { Item } })));
        added += chunk.length - existing;
      });
    } finally {
      await this.addToCount(segmentId, added);
    }
    await this.addAttributeNames(segmentId, newNames(known, byId.values()));
    return { added, replaced: items.length - added };
  }

  /** Removes members; ids that are not members are ignored (and not counted). */
  async removeMembers(segmentId: string, profileIds: readonly string[]): Promise<{ removed: number }> {
    await this.requireSegment(segmentId);
    const pk = segmentPk(segmentId);
    const keys: Key[] = [...new Set(profileIds)].map((id) => ({ pk: { S: pk }, sk: { S: memberSk(id) } }));
    let removed = 0;
    try {
      await this.inChunks(keys, GET_CHUNK, async (chunk) => {
        const existing = await this.countExisting(chunk);
        await this.batchWrite(chunk.map((Key) => ({ DeleteRequest: { Key } })));
        removed += existing;
      });
    } finally {
      await this.addToCount(segmentId, -removed);
    }
    return { removed };
  }

  /** The segment's attribute names so far; throws when the segment does not exist. */
  private async requireSegment(segmentId: string): Promise<ReadonlySet<string>> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: SEGMENTS_PK }, sk: { S: segmentId } },
        ProjectionExpression: 'sk, #names',
        ExpressionAttributeNames: { '#names': SEGMENT_ATTRIBUTES },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) throw new SegmentNotFoundError(segmentId);
    return new Set(out.Item[SEGMENT_ATTRIBUTES]?.SS ?? []);
  }

  /** Names stay once seen (like a schema): a removed member's attributes may still be another's. */
  private async addAttributeNames(segmentId: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: SEGMENTS_PK }, sk: { S: segmentId } },
          UpdateExpression: 'ADD #names :names',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#names': SEGMENT_ATTRIBUTES },
          ExpressionAttributeValues: { ':names': { SS: [...names] } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new SegmentNotFoundError(segmentId);
      throw error;
    }
  }

  private async isEmpty(pk: string): Promise<boolean> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ProjectionExpression: 'pk',
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return (out.Items?.length ?? 0) === 0;
  }

  private async addToCount(segmentId: string, delta: number): Promise<void> {
    if (delta === 0) return;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: SEGMENTS_PK }, sk: { S: segmentId } },
          UpdateExpression: 'ADD profiles :delta',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':delta': { N: String(delta) } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new SegmentNotFoundError(segmentId);
      throw error;
    }
  }

  private async countExisting(keys: Key[]): Promise<number> {
    let found = 0;
    let pending: Key[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await this.backOff(attempt, pending.length, 'BatchGetItem');
      const out = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: { Keys: pending, ProjectionExpression: 'pk', ConsistentRead: true },
          },
        }),
      );
      found += out.Responses?.[this.tableName]?.length ?? 0;
      pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += WRITE_CHUNK) {
      let pending = requests.slice(start, start + WRITE_CHUNK);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await this.backOff(attempt, pending.length, 'BatchWriteItem');
        const out = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  private async backOff(attempt: number, left: number, operation: string): Promise<void> {
    if (attempt > this.maxRetries) {
      throw new TransientError(
        `${operation}: ${left} items still unprocessed after ${this.maxRetries} retries`,
      );
    }
    const ms = Math.min(25 * 2 ** (attempt - 1), 2_000);
    await new Promise((resolve) => setTimeout(resolve, ms * (0.5 + Math.random() / 2)));
  }

  /** Runs `work` over chunks with bounded concurrency; after a failure no new chunk starts. */
  private async inChunks<T>(items: T[], size: number, work: (chunk: T[]) => Promise<void>): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const chunk = items.slice(next, next + size);
        next += size;
        try {
          await work(chunk);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const workers = Math.min(this.concurrency, Math.ceil(items.length / size));
    const results = await Promise.allSettled(Array.from({ length: workers }, worker));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
}

/**
 * The attribute names `profiles` carry that `known` lacks, in the order first seen, no more than
 * fit under the bound; names too long to map are left out. Undefined values are not written.
 */
const newNames = (known: ReadonlySet<string>, profiles: Iterable<SourceProfile>): string[] => {
  const room = MAX_SEGMENT_ATTRIBUTES - known.size;
  const found = new Set<string>();
  if (room <= 0) return [];
  for (const p of profiles) {
    for (const [name, value] of Object.entries(p.attributes)) {
      if (value === undefined || name === '' || name.length > MAX_ATTRIBUTE_NAME || known.has(name)) continue;
      found.add(name);
      if (found.size === room) return [...found];
    }
  }
  return [...found];
};
