import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { State } from '#lib/ports/state.ts';
import { anExportConfig } from '#test/fixtures/builders.ts';
import { aBatchOutcome, aRun } from '#test/fixtures/state-records.ts';
import { createTables, localDynamo, uniqueName } from '#test/support/aws.ts';

/** Write units DynamoDB Local reports for each command, in call order (ReturnConsumedCapacity). */
const countUnits = (client: DynamoDBClient): Array<{ command: string; units: number }> => {
  const calls: Array<{ command: string; units: number }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
      const units = list.reduce(
        (n: number, c) => n + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0),
        0,
      );
      calls.push({ command: String(context.commandName), units });
      return result;
    },
    { step: 'initialize', name: 'unitCounter' },
  );
  return calls;
};

const SEGMENTS = ['newsletter', 'active-customers', 'vip', 'trial-users', 'churn-risk', 'enterprise'];

/** A big run, as one stands once planned: frozen config, planning stats and estimate (~6 KB in all). */
const aPlannedRun = (id: string): RunRecord =>
  aRun({
    id,
    status: 'sending',
    membership: 'list',
    segmentIds: SEGMENTS,
    config: anExportConfig({
      name: 'Weekly newsletter for every customer segment we keep',
      segmentIds: SEGMENTS,
      dataMatching: {
        email: 'email',
        fields: { FirstName: 'first_name', LastName: 'last_name', Company: 'company', MailingCity: 'city' },
        custom: Array.from({ length: 30 }, (_, i) => ({
          name: `Custom attribute number ${i}`,
          type: 'string' as const,
          source: `custom_attribute_${i}`,
        })),
        updatedAt: 'updated_at',
      },
    }),
  });

const planningStats = (): Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'> => ({
  planningFinishedAt: '2025-01-01T00:05:00.000Z',
  estimate: {
    requests: { upsertWithList: 1200, listRemove: 40, bulkUpsert: 300 },
    totalRequests: 1540,
    floorRequests: 1400.5,
    ratePerSecond: 5,
    seconds: 308,
    secondsAtDocumentedRate: 308,
    upperBound: false,
  },
  planning: {
    segments: SEGMENTS.map((s, i) => ({
      id: s,
      name: `Segment ${s} (all of them)`,
      profiles: 10_000 * (i + 1),
    })),
    profilesRead: 210_000,
    distinct: 100_000,
    invalid: {
      email_missing: 12,
      email_missing_at: 40,
      email_invalid_domain: 33,
      email_contains_whitespace: 9,
    },
    fieldIssues: Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`Custom attribute number ${i}: not_a_string`, i + 1]),
    ),
    merged: 230,
    overCapProfiles: 0,
    heldBack: 0,
    added: 90_000,
    changed: 5_000,
    unchanged: 4_000,
    left: 1_000,
    joins: SEGMENTS.map((_, i) => 10_000 * (i + 1)),
    leaves: SEGMENTS.map((_, i) => 100 * i),
  },
});

let client: DynamoDBClient;
let tableName: string;
let state: State;
let calls: Array<{ command: string; units: number }>;

beforeAll(async () => {
  client = localDynamo();
  tableName = (await createTables(client)).stateTable;
  calls = countUnits(client);
  state = createDynamoDbState({ client, tableName });
});

describe('DynamoDB run items', () => {
  it("a recorded range's transaction costs at most 4 write units however much the run has recorded about itself", async () => {
    const run = aPlannedRun(uniqueName('run'));
    await state.runs.create(run);
    await state.plans.commit(run.id, { batchesTotal: 50, itemsPlanned: 5_000, at: run.createdAt });
    await state.plans.complete(run.id, planningStats());
    expect((await state.runs.get(run.id))?.config?.dataMatching.custom).toHaveLength(30);
    calls.length = 0;

    const outcome = aBatchOutcome({
      accepted: 100,
      failed: {},
      samples: [],
      requests: { upsertWithList: 2 },
    });
    await state.batches.record(run.id, 0, { from: 0, to: 50, final: false }, outcome);
    await state.batches.record(run.id, 0, { from: 50, to: 100, final: true }, outcome);

    const transactions = calls.filter((c) => c.command === 'TransactWriteItemsCommand');
    expect(transactions).toHaveLength(2);
    for (const t of transactions) expect(t.units).toBeLessThanOrEqual(4);
    expect((await state.runs.get(run.id))?.progress).toMatchObject({ batchesDone: 1, accepted: 200 });
  });

  it('a transition that holds removals sets the status and the hold together, or neither', async () => {
    const run = aPlannedRun(uniqueName('run'));
    await state.runs.create(run);
    const hold = {
      targets: [{ segmentId: 'vip', target: 'VIP', members: 1_000, removals: 600, exceeds: true }],
      at: '2025-01-01T00:06:00.000Z',
      firstBatch: 40,
      removals: 600,
    };

    expect(await state.runs.transition(run.id, ['planning'], 'awaiting_approval', { hold })).toBe(false);
    expect(await state.runs.get(run.id)).toMatchObject({ status: 'sending' });
    expect((await state.runs.get(run.id))?.hold).toBeUndefined();

    expect(await state.runs.transition(run.id, ['sending'], 'awaiting_approval', { hold })).toBe(true);
    expect(await state.runs.get(run.id)).toMatchObject({ status: 'awaiting_approval', hold });
  });

  it('a run recorded as one item before the split is read, listed, updated and counted as before', async () => {
    const exportId = uniqueName('exp');
    const run = { ...aPlannedRun(uniqueName('run')), exportId, status: 'planning' as const };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(
          {
            ...run,
            pk: `RUN#${run.id}`,
            sk: 'META',
            gsi1pk: `RUNS#${exportId}`,
            gsi1sk: `${run.createdAt}#${run.id}`,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
    const newer = aRun({ id: uniqueName('run'), exportId, createdAt: '2025-01-02T00:00:00.000Z' });
    await state.runs.create(newer);

    await state.plans.commit(run.id, { batchesTotal: 2, itemsPlanned: 200, at: run.createdAt });
    await state.plans.complete(run.id, planningStats());
    expect(await state.runs.transition(run.id, ['planning'], 'sending')).toBe(true);
    await state.batches.record(run.id, 0, { from: 0, to: 100, final: true }, aBatchOutcome({ samples: [] }));

    const read = await state.runs.get(run.id);
    expect(read).toMatchObject({
      status: 'sending',
      planningDone: true,
      ...planningStats(),
      config: run.config,
    });
    expect(read?.progress).toMatchObject({ batchesDone: 1, accepted: 98 });
    const first = await state.runs.list(exportId, 1);
    const second = await state.runs.list(exportId, 1, first.next);
    expect([...first.runs, ...second.runs].map((r) => r.id)).toEqual([newer.id, run.id]);
    expect(second.runs[0]).toEqual(read);
    expect(second.next).toBeUndefined();
    const items = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `RUN#${run.id}` } },
      }),
    );
    // Its figures stayed on its one item: no detail item was made up for it.
    expect((items.Items ?? []).map((i) => i.sk?.S)).toEqual(['BATCH#00000000', 'META']);
    const hold = { targets: [], at: '2025-01-01T00:06:00.000Z', firstBatch: 1, removals: 0 };
    expect(await state.runs.transition(run.id, ['sending'], 'awaiting_approval', { hold })).toBe(true);
    expect(await state.runs.get(run.id)).toMatchObject({ status: 'awaiting_approval', hold });
  });
});
