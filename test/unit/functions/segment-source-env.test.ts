import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiDeps } from '#functions/api/deps.ts';
import { createPlannerDeps } from '#functions/planner/deps.ts';
import { ApiEnvSchema, loadEnv, PlannerEnvSchema } from '#functions/shared/env.ts';
import { refreshReader, segmentSource } from '#functions/shared/segment-wiring.ts';
import { RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { fakeS3 } from '#test/fakes/fake-s3.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';

const base = {
  STATE_TABLE: 'state',
  PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/plan',
  SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/send',
};
const quiet = { logger: new RecordingLogger(), metrics: noMetrics };

describe('SEGMENT_SOURCE=s3', () => {
  it.each([
    ['planner', PlannerEnvSchema],
    ['api', ApiEnvSchema],
  ] as const)('the %s refuses it without SEGMENT_BUCKET, naming the variable', (_name, schema) => {
    expect(() => loadEnv(schema, { ...base, SEGMENT_SOURCE: 's3' })).toThrow(
      'env.SEGMENT_BUCKET: required when SEGMENT_SOURCE is s3',
    );
  });

  it('the planner and the API read segments from the refreshes, and only the planner receives arrivals', () => {
    const env = { ...base, SEGMENT_SOURCE: 's3', SEGMENT_BUCKET: 'acme-segments' };

    const planner = createPlannerDeps(loadEnv(PlannerEnvSchema, env), quiet);
    const api = createApiDeps(loadEnv(ApiEnvSchema, env), quiet);

    expect(planner.plan.segments).toBeInstanceOf(RefreshSegmentSource);
    expect(planner.start.segments).toBe(planner.plan.segments);
    expect(planner.arrival?.bucket).toBe('acme-segments');
    expect(planner.arrival?.deps.segments).toBe(planner.plan.segments);
    expect(api.segments).toBeInstanceOf(RefreshSegmentSource);
  });

  it('SEGMENT_ID_FIELD names the id column both the arrival and the planner read', async () => {
    const files = {
      'refreshes/r1/manifest.json': JSON.stringify({
        refreshId: 'r1',
        createdAt: '2026-12-03T06:00:00Z',
        segments: [{ id: 'vip', name: 'VIP', files: [{ key: 'vip.csv', format: 'csv' }] }],
      }),
      'refreshes/r1/vip.csv': 'customer_id,email,id\nc1,a@example.com,x\nc2,b@example.com,y\n',
    };
    const env = {
      ...base,
      SEGMENT_SOURCE: 's3',
      SEGMENT_BUCKET: 'acme-segments',
      SEGMENT_ID_FIELD: 'customer_id',
    };
    const state = createInMemoryState();
    const overrides = { ...quiet, s3: fakeS3(files).client };
    const loaded = loadEnv(PlannerEnvSchema, env);

    const facts = await refreshReader(loaded, overrides)?.reader.facts('r1');
    expect(facts).toMatchObject({ ok: true, segments: [{ id: 'vip', attributes: ['email', 'id'] }] });
    await state.refreshes.record({
      refreshId: 'r1',
      createdAt: '2026-12-03T06:00:00Z',
      arrivedAt: '2026-12-03T06:01:00Z',
      outcome: 'complete',
      segments: facts?.ok ? facts.segments : [],
    });
    const source = segmentSource(loaded, { dynamo: new DynamoDBClient({}), state }, overrides);
    const page = await source.readPage('vip', undefined, 10);
    expect(page.profiles.map((p) => p.id)).toEqual(['c1', 'c2']);
  });

  it('with the segment table the planner has no arrival to receive', () => {
    const planner = createPlannerDeps(
      loadEnv(PlannerEnvSchema, { ...base, SEGMENT_TABLE: 'segments' }),
      quiet,
    );
    expect(planner.arrival).toBeUndefined();
  });
});
