import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { type AuditEntry, AuditEntrySchema } from '#lib/domain/audit.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import type { AuditQuery, AuditTrail } from '#lib/ports/audit-trail.ts';
import { createItem } from './item-ops.ts';
import { fromItem, type Item, keys, type TableContext, toItem } from './records.ts';
import { TTL_ATTRIBUTE } from './tables.ts';

const notOurs = (): ValidationError =>
  new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);

/** The cursor is the base64url of the last entry's sort key; only its canonical encoding is ours. */
const decodeCursor = (cursor: string): string => {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!sk.includes('#') || Buffer.from(sk, 'utf8').toString('base64url') !== cursor) throw notOurs();
  return sk;
};

/**
 * `AuditTrail` on the state table (./README.md): one item per entry under `AUDIT#<type>#<id>`,
 * sorted by instant then id, so a resource's history is one descending Query. Entries are created
 * with a conditional put and never updated; DynamoDB's TTL removes them `ttlDays.audit` after `at`.
 */
export class DynamoDbAuditTrail implements AuditTrail {
  constructor(private readonly ctx: TableContext) {}

  append(entry: AuditEntry): Promise<boolean> {
    const record = AuditEntrySchema.parse(entry);
    const atSeconds = Math.floor(Date.parse(record.at) / 1000);
    return createItem(this.ctx, {
      ...record,
      pk: keys.auditPk(record.resource.type, record.resource.id),
      sk: keys.auditSk(record.at, record.id),
      [TTL_ATTRIBUTE]: atSeconds + Math.round(this.ctx.ttlDays.audit * 86_400),
    });
  }

  async list(query: AuditQuery): Promise<{ entries: AuditEntry[]; next?: string }> {
    const { limit } = query;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    const pk = keys.auditPk(query.resourceType, query.resourceId);
    const items: Item[] = [];
    let start: Item | undefined =
      query.cursor === undefined ? undefined : toItem({ pk, sk: decodeCursor(query.cursor) });
    do {
      const out = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: toItem({ ':pk': pk }),
          ScanIndexForward: false,
          // One more than asked tells whether a next page exists.
          Limit: limit + 1 - items.length,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start && items.length <= limit);
    const page = items.slice(0, limit);
    const entries = page.map((item) => fromItem(AuditEntrySchema, item));
    const lastSk = page[page.length - 1]?.sk?.S;
    return items.length > limit && lastSk !== undefined
      ? { entries, next: Buffer.from(lastSk, 'utf8').toString('base64url') }
      : { entries };
  }
}
