import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentInfo, SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';
import { boundAttributeNames } from './attribute-names.ts';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.ts';
import { InvalidSegmentCursorError, malformed, SegmentSourceConfigError } from './errors.ts';
import { ATTRIBUTES, MEMBER_PREFIX, SEGMENT_ATTRIBUTES, SEGMENTS_PK, segmentPk } from './segment-table.ts';

export interface DynamoDbSegmentSourceOptions {
  client: DynamoDBClient;
  tableName: string;
}

const SegmentItemSchema = z.object({
  sk: z.object({ S: z.string().min(1) }),
  name: z.object({ S: z.string() }),
  profiles: z.object({ N: z.string().regex(/^\d+$/, 'a non-negative integer') }).optional(),
  [SEGMENT_ATTRIBUTES]: z.object({ SS: z.array(z.string()) }, 'a string set').optional(),
});

/** The cursor is the Query's `LastEvaluatedKey` (or the key of a page's last member), as stored. */
const CursorSchema = z
  .object({
    pk: z.object({ S: z.string() }).strict(),
    sk: z.object({ S: z.string().startsWith(MEMBER_PREFIX) }).strict(),
  })
  .strict();
type Cursor = z.infer<typeof CursorSchema>;

/**
 * The default `SegmentSource`: segments and members as upstream segmentation writes them into the
 * segment table. A member item whose attribute map is missing or unreadable is reported in
 * `skipped`, never dropped silently.
 */
export class DynamoDbSegmentSource implements SegmentSource {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: DynamoDbSegmentSourceOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async listSegments(): Promise<SegmentInfo[]> {
    const segments: SegmentInfo[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: SEGMENTS_PK } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) segments.push(toSegmentInfo(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return segments;
  }

  async getSegment(id: string): Promise<SegmentInfo | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: SEGMENTS_PK }, sk: { S: id } } }),
    );
    return out.Item ? toSegmentInfo(out.Item) : undefined;
  }

  async readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    checkLimit(limit);
    const pk = segmentPk(segmentId);
    let startKey: Cursor | undefined;
    if (cursor !== undefined) {
      startKey = decodeCursor(cursor, CursorSchema, segmentId);
      if (startKey.pk.S !== pk) {
        throw new InvalidSegmentCursorError(segmentId, cursor, `it belongs to partition "${startKey.pk.S}"`);
      }
    }
    // One item more than asked tells whether another page exists, so the last page carries no
    // `next` and callers never make a trailing empty read.
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':p': { S: MEMBER_PREFIX } },
        ExclusiveStartKey: startKey,
        Limit: limit + 1,
      }),
    );
    const items = out.Items ?? [];
    let next = out.LastEvaluatedKey;
    if (items.length > limit) {
      items.length = limit;
      // Resume after the last member returned (the table's key is pk + sk).
      const lastSk = items[limit - 1]?.sk;
      next = lastSk && { pk: { S: pk }, sk: lastSk };
    }
    const page: SegmentPage = { profiles: [], skipped: [] };
    for (const item of items) {
      const profile = toProfile(item);
      if ('reason' in profile) page.skipped.push(profile);
      else page.profiles.push(profile);
    }
    if (next) page.next = encodeCursor(next);
    return page;
  }
}

const toSegmentInfo = (item: Record<string, AttributeValue>): SegmentInfo => {
  const parsed = SegmentItemSchema.safeParse(item);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const id = item.sk?.S ?? '(no id)';
    throw new SegmentSourceConfigError(
      `Segment item "${id}" is malformed: ${issue?.path[0]?.toString() ?? 'item'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { sk, name, profiles, [SEGMENT_ATTRIBUTES]: names } = parsed.data;
  const info: SegmentInfo = { id: sk.S, name: name.S, profiles: profiles ? Number(profiles.N) : 0 };
  // A set has no order: sorted, the same segment lists its names the same way every time.
  if (names !== undefined) info.attributes = boundAttributeNames([...names.SS].sort(), '');
  return info;
};

const toProfile = (
  item: Record<string, AttributeValue>,
): SourceProfile | { profileId: string; reason: string } => {
  const id = (item.sk?.S ?? '').slice(MEMBER_PREFIX.length);
  const map = item[ATTRIBUTES]?.M;
  if (map === undefined)
    return { profileId: id, reason: malformed(`attribute map '${ATTRIBUTES}' missing or not a map`) };
  try {
    return { id, attributes: unmarshall(map, { wrapNumbers: readNumber }) };
  } catch (error) {
    return { profileId: id, reason: malformed(`attribute map unreadable (${(error as Error).message})`) };
  }
};

const INTEGER = /^-?\d+$/;

/** Integers beyond double precision stay strings rather than being silently rounded. */
const readNumber = (text: string): number | string => {
  const n = Number(text);
  return INTEGER.test(text) && !Number.isSafeInteger(n) ? text : n;
};
