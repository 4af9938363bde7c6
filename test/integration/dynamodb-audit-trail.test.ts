import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiEnvSchema, loadEnv } from '#functions/shared/env.ts';
import { commonParts } from '#functions/shared/wiring.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import type { AuditEntry } from '#lib/domain/audit.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { createTables, localDynamo, uniqueName } from '#test/support/aws.ts';

let client: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  client = localDynamo();
  tableName = (await createTables(client)).stateTable;
});

const AT = '2026-03-01T10:00:00.000Z';
const DAY_S = 86_400;

const anEntry = (): AuditEntry => ({
  id: uniqueName('aud'),
  at: AT,
  actor: { id: 'admin-1', role: 'admin' },
  action: 'connection.key_rotated',
  resource: { type: 'connection', id: uniqueName('conn') },
  changes: [{ field: 'apiKey', changed: true }],
});

const stored = async (entry: AuditEntry) => {
  const out = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: {
        pk: { S: `AUDIT#${entry.resource.type}#${entry.resource.id}` },
        sk: { S: `${entry.at}#${entry.id}` },
      },
      ConsistentRead: true,
    }),
  );
  if (out.Item === undefined) throw new Error('no item');
  return out.Item;
};

describe('DynamoDB audit trail (DynamoDB specifics)', () => {
  it('an entry expires its retention after its own time (400 days by default), not after the clock', async () => {
    // The clock is a year past the entry: retention counts from when the change was made.
    const clock = new FakeClock({ start: Date.parse(AT) + 365 * DAY_S * 1000 });
    const state = createDynamoDbState({ client, tableName, clock });
    const entry = anEntry();
    await state.audit.append(entry);

    const item = await stored(entry);
    expect(Number(item.expiresAt?.N)).toBe(Date.parse(AT) / 1000 + 400 * DAY_S);
  });

  it('the retention is the deployment’s to set', async () => {
    const state = createDynamoDbState({ client, tableName, ttlDays: { audit: 30 } });
    const entry = anEntry();
    await state.audit.append(entry);

    expect(Number((await stored(entry)).expiresAt?.N)).toBe(Date.parse(AT) / 1000 + 30 * DAY_S);
  });

  it('a function keeps entries the AUDIT_RETENTION_DAYS its environment sets', async () => {
    const env = loadEnv(ApiEnvSchema, {
      STATE_TABLE: tableName,
      SEGMENT_TABLE: 'segments',
      PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/plan',
      AUDIT_RETENTION_DAYS: '7',
    });
    const { state } = commonParts(env, { dynamo: client, logger: silentLogger, metrics: noMetrics });
    const entry = anEntry();
    await state.audit.append(entry);

    expect(Number((await stored(entry)).expiresAt?.N)).toBe(Date.parse(AT) / 1000 + 7 * DAY_S);
  });

  it('an entry changed behind the product’s back fails its read, naming the item and the field', async () => {
    const state = createDynamoDbState({ client, tableName });
    const entry = anEntry();
    await state.audit.append(entry);
    const pk = `AUDIT#connection#${entry.resource.id}`;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: pk }, sk: { S: `${AT}#${entry.id}` } },
        UpdateExpression: 'SET #a = :bad',
        ExpressionAttributeNames: { '#a': 'action' },
        ExpressionAttributeValues: { ':bad': { S: 'connection.stolen' } },
      }),
    );

    const read = state.audit.list({ resourceType: 'connection', resourceId: entry.resource.id, limit: 5 });
    await expect(read).rejects.toMatchObject({ name: 'CorruptItemError', field: 'action' });
    await expect(read).rejects.toThrow(`pk=${pk}`);
  });
});
