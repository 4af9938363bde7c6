import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlannerDeps, type PlannerDeps } from '#functions/planner/deps.ts';
import { createPlannerHandlers } from '#functions/planner/handler.ts';
import { loadEnv, PlannerEnvSchema } from '#functions/shared/env.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import type { State } from '#lib/ports/state.ts';
import type { RefreshArrivalSummary } from '#lib/use-cases/refresh-arrival.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { anExportConfig } from '#test/fixtures/builders.ts';
import { aConnection, anExportRecord } from '#test/fixtures/state-records.ts';
import { createTables, localDynamo, localSqs, receiveAll, uniqueName } from '#test/support/aws.ts';
import {
  asCsv,
  asJsonl,
  createBucket,
  gzip,
  localS3,
  putRefresh,
  sha256,
  someProfiles,
} from '#test/support/s3.ts';

const context = {
  functionName: 'autopilot-export-refresh-arrival',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 300_000,
} as Context;

let s3: S3Client;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let bucket: string;
let planQueueUrl: string;
let deps: PlannerDeps;
/** The state the handlers use, read directly. */
let state: State;
let handlers: ReturnType<typeof createPlannerHandlers>;
const notifier = new RecordingNotifier();

const newQueue = async (): Promise<string> => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('q') }));
  if (!QueueUrl) throw new Error('no queue url');
  return QueueUrl;
};

beforeAll(async () => {
  s3 = localS3();
  dynamo = localDynamo();
  sqs = localSqs();
  bucket = await createBucket(s3);
  planQueueUrl = await newQueue();
  const { stateTable } = await createTables(dynamo);
  state = createDynamoDbState({ client: dynamo, tableName: stateTable });
  const env = loadEnv(PlannerEnvSchema, {
    STATE_TABLE: stateTable,
    PLAN_QUEUE_URL: planQueueUrl,
    SEND_QUEUE_URL: await newQueue(),
    SEGMENT_SOURCE: 's3',
    SEGMENT_BUCKET: bucket,
    PLANNER_PAGE_SIZE: '7',
  });
  deps = createPlannerDeps(env, {
    dynamo,
    sqs,
    s3,
    notifier,
    destinations: oneDestination(new InMemoryDestination({ validKeys: ['key-1'] })),
    secrets: new InMemorySecretProvider({ 'conn-1': 'key-1' }),
    logger: new RecordingLogger(),
    metrics: noMetrics,
  });
  handlers = createPlannerHandlers(deps);
  await state.connections.create(aConnection({ id: 'conn-1' }));
});

const objectCreated = (refreshId: string, id = uniqueName('event')) => ({
  id,
  source: 'aws.s3',
  'detail-type': 'Object Created',
  detail: { bucket: { name: bucket }, object: { key: `refreshes/${refreshId}/manifest.json` } },
});

const arrive = (refreshId: string, id?: string) =>
  handlers.refreshArrived(objectCreated(refreshId, id), context) as Promise<RefreshArrivalSummary>;

const manifestOf = (refreshId: string, createdAt: string, segments: unknown[]) => ({
  refreshId,
  createdAt,
  segments,
});

/** A segment in two gzip JSONL files, each declaring its rows and checksum. */
const dropSegment = async (
  refreshId: string,
  segmentId: string,
  profiles: SourceProfile[],
  createdAt = '2026-12-03T06:00:00Z',
) => {
  const half = Math.ceil(profiles.length / 2);
  const parts = [profiles.slice(0, half), profiles.slice(half)].map((p) => gzip(asJsonl(p)));
  await putRefresh(
    s3,
    bucket,
    refreshId,
    manifestOf(refreshId, createdAt, [
      {
        id: segmentId,
        name: `Segment ${segmentId}`,
        files: parts.map((body, i) => ({
          key: `${segmentId}/part-${i}.jsonl.gz`,
          format: 'jsonl',
          gzip: true,
          rows: i === 0 ? half : profiles.length - half,
          sha256: sha256(body),
        })),
      },
    ]),
    Object.fromEntries(parts.map((body, i) => [`${segmentId}/part-${i}.jsonl.gz`, body])),
  );
};

const addExport = async (segmentId: string) => {
  const id = uniqueName('exp');
  await state.exports.create(
    anExportRecord({
      id,
      segmentIds: [segmentId],
      scheduled: true,
      dataMatching: anExportConfig({ dataMatching: { email: 'email', fields: {} } }).dataMatching,
    }),
  );
  return id;
};

/** A segment read as a resumed planner would: a new source and a serialised cursor for every page. */
const readFrom = async (segmentId: string, cursor: string | undefined, limit: number, pages = 1000) => {
  const ids: string[] = [];
  let next = cursor;
  for (let i = 0; i < pages; i++) {
    const source = new RefreshSegmentSource({ client: s3, bucket, refreshes: state.refreshes });
    const page = await source.readPage(segmentId, next, limit);
    ids.push(...page.profiles.map((p) => p.id));
    next = page.next;
    if (next === undefined) break;
  }
  return { ids, next };
};

describe('refresh arrival on S3 and DynamoDB', () => {
  it('a drop records its facts, starts its export once, and the planner reads exactly its profiles', async () => {
    const refreshId = uniqueName('r');
    const segmentId = uniqueName('vip');
    const profiles = someProfiles('p', 23);
    await dropSegment(refreshId, segmentId, profiles);
    const exportId = await addExport(segmentId);

    const first = await arrive(refreshId);
    const again = await arrive(refreshId);

    expect(first).toMatchObject({ outcome: 'complete', recorded: 'new', followUp: 'done' });
    expect(first.started).toHaveLength(1);
    expect(again).toMatchObject({ recorded: 'seen', followUp: 'none', started: [] });
    expect(await deps.plan.segments.getSegment(segmentId)).toEqual({
      id: segmentId,
      name: `Segment ${segmentId}`,
      profiles: 23,
      attributes: ['email', 'city'],
    });
    const { runs } = await state.runs.list(exportId, 10);
    expect(runs.map((r) => r.refreshId)).toEqual([refreshId]);

    // The suite's first plan message: no other test has started a run yet.
    const messages = await receiveAll(sqs, planQueueUrl, 1, 10_000);
    expect(messages.map((m) => JSON.parse(m.Body ?? '{}').runId)).toEqual([runs[0]?.id]);
    const event = {
      Records: messages.map((m) => ({ messageId: m.MessageId, body: m.Body, attributes: {} })),
    } as unknown as SQSEvent;
    expect(await handlers.planMessage(event, context)).toEqual({ batchItemFailures: [] });

    const planned = await state.runs.get(runs[0]?.id ?? '');
    expect(planned?.planning).toMatchObject({ profilesRead: 23, distinct: 23, added: 23 });
    expect(planned?.status).toBe('sending');
  });

  it('a manifest whose files disagree is rejected with its reason, notified, and starts nothing', async () => {
    const refreshId = uniqueName('r-bad');
    const segmentId = uniqueName('vip');
    const csv = asCsv(someProfiles('q', 4));
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, '2026-12-05T06:00:00Z', [
        { id: segmentId, name: 'Bad', files: [{ key: 'q.csv', format: 'csv', rows: 5 }] },
      ]),
      { 'q.csv': csv },
    );
    const exportId = await addExport(segmentId);

    const summary = await arrive(refreshId);

    const reason = 'segments[0].files[0] (q.csv).rows: declared 5, the file has 4';
    expect(summary).toMatchObject({ outcome: 'rejected', reasons: [reason], started: [] });
    expect(await state.refreshes.get(refreshId)).toMatchObject({ outcome: 'rejected', reasons: [reason] });
    expect(notifier.rejectedRefreshes.filter((r) => r.refreshId === refreshId)).toEqual([
      { refreshId, reasons: [reason] },
    ]);
    expect(await deps.plan.segments.getSegment(segmentId)).toBeUndefined();
    expect((await state.runs.list(exportId, 10)).runs).toEqual([]);
  });

  it('a newer refresh arriving mid-read does not disturb a cursor of the older one', async () => {
    const segmentId = uniqueName('vip');
    const older = uniqueName('r-old');
    const newer = uniqueName('r-new');
    await dropSegment(older, segmentId, someProfiles('old', 20), '2026-12-03T06:00:00Z');
    await arrive(older);
    const firstPages = await readFrom(segmentId, undefined, 6, 1);

    await dropSegment(newer, segmentId, someProfiles('new', 9), '2026-12-04T06:00:00Z');
    expect(await arrive(newer)).toMatchObject({ outcome: 'complete' });
    const rest = await readFrom(segmentId, firstPages.next, 6);
    const fresh = await readFrom(segmentId, undefined, 6);

    expect([...firstPages.ids, ...rest.ids]).toEqual(someProfiles('old', 20).map((p) => p.id));
    expect(fresh.ids).toEqual(someProfiles('new', 9).map((p) => p.id));
    expect(await deps.plan.segments.getSegment(segmentId)).toMatchObject({ profiles: 9 });
  });

  it('an arrival killed before marking its refresh is resumed by its retry without a second run', async () => {
    const refreshId = uniqueName('r-crash');
    const segmentId = uniqueName('vip');
    await dropSegment(refreshId, segmentId, someProfiles('c', 5));
    const exportId = await addExport(segmentId);
    const arrival = deps.arrival;
    if (!arrival) throw new Error('the planner should receive arrivals');
    const ledger = arrival.deps.refreshes;
    arrival.deps.refreshes = Object.assign(Object.create(ledger) as typeof ledger, {
      settle: () => Promise.reject(new Error('killed')),
    });

    try {
      await expect(arrive(refreshId, 'event-crash')).rejects.toThrow('killed');
    } finally {
      arrival.deps.refreshes = ledger;
    }
    const retry = await arrive(refreshId, 'event-crash');

    expect(retry).toMatchObject({ followUp: 'resumed', started: [], alreadyStarted: [exportId] });
    expect((await state.runs.list(exportId, 10)).runs.map((r) => r.refreshId)).toEqual([refreshId]);
  });
});
