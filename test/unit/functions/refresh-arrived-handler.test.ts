import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PlannerDeps } from '#functions/planner/deps.ts';
import { createRefreshArrivedHandler } from '#functions/planner/handler.ts';
import { observability } from '#functions/shared/observability.ts';
import { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { FakeRefreshReader } from '#test/fakes/fake-refresh-reader.ts';
import { InMemoryDeadLetters } from '#test/fakes/in-memory-queue.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const context = {
  functionName: 'autopilot-export-refresh-arrival',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 600_000,
} as Context;

const objectCreated = (key: string, bucket = 'segments', id = 'event-1') => ({
  version: '0',
  id,
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2026-12-03T06:00:00Z',
  region: 'eu-west-1',
  resources: [`arn:aws:s3:::${bucket}`],
  detail: {
    version: '0',
    bucket: { name: bucket },
    object: { key, size: 120, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '617f08299329d189' },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '111122223333',
    reason: 'PutObject',
  },
});

const world = async (withArrival = true) => {
  const h = new PipelineHarness();
  const lines: string[] = [];
  const logger = new ScopedLogger(new RecordingLogger(lines));
  const reader = new FakeRefreshReader().put({
    refreshId: '2026-12-03',
    createdAt: '2026-12-03T06:00:00Z',
    segments: [{ id: 'seg-a', name: 'Newsletter', files: [{ key: 'a.csv', format: 'csv', rows: 1 }] }],
  });
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  await h.addConnection();
  await h.addExport({ scheduled: true });
  const deps: PlannerDeps = {
    plan: { ...h.planDeps, logger },
    start: { ...h.startDeps, logger },
    ...(withArrival
      ? {
          arrival: {
            deps: { ...h.startDeps, refreshes: h.state.refreshes, notifier: h.notifier, logger, reader },
            bucket: 'segments',
          },
        }
      : {}),
    planDeadLetters: new InMemoryDeadLetters(),
    observability: observability(logger, noMetrics),
  };
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { h, deps, reader, handler: createRefreshArrivedHandler(deps), logged };
};

describe('refreshArrived handler', () => {
  it('a manifest’s arrival records the refresh and starts its runs', async () => {
    const { h, handler } = await world();

    const summary = await handler(objectCreated('refreshes/2026-12-03/manifest.json'), context);

    expect(summary).toMatchObject({ refreshId: '2026-12-03', outcome: 'complete', recorded: 'new' });
    expect(h.planQueue.messages.map((m) => m.body.exportId)).toEqual(['exp-1']);
    expect(await h.state.refreshes.get('2026-12-03')).toMatchObject({ segmentIds: ['seg-a'] });
  });

  it.each([
    'refreshes/2026-12-03/a.csv',
    'refreshes/manifest.json',
    'drops/2026-12-03/manifest.json',
    'refreshes/2026-12-03/nested/manifest.json',
    'refreshes/../manifest.json',
    `refreshes/${'r'.repeat(257)}/manifest.json`,
  ])('ignores %s with one info line, reading and recording nothing', async (key) => {
    const { h, reader, handler, logged } = await world();

    expect(await handler(objectCreated(key), context)).toEqual({ ignored: 'not a refresh manifest' });

    expect(reader.reads).toEqual([]);
    expect(h.planQueue.messages).toEqual([]);
    expect(logged().map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'object is not a refresh manifest; ignored'],
    ]);
  });

  it('masks any part of an ignored key that may be an address', async () => {
    const { handler, logged } = await world();

    await handler(objectCreated('refreshes/2026-12-03/jane.doe@example.com.csv'), context);

    expect(logged()[0]?.key).toBe('refreshes/2026-12-03/j***@example.com.csv');
  });

  it('ignores an object of another bucket', async () => {
    const { reader, handler } = await world();

    const answer = await handler(
      objectCreated('refreshes/2026-12-03/manifest.json', 'someone-elses'),
      context,
    );

    expect(answer).toEqual({ ignored: 'not the segment bucket' });
    expect(reader.reads).toEqual([]);
  });

  it('refuses an event that is not an S3 object creation, naming the field', async () => {
    const { handler } = await world();
    const event = objectCreated('refreshes/2026-12-03/manifest.json');

    const error = await handler({ ...event, detail: { ...event.detail, object: {} } }, context).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['event.detail.object.key']);
    await expect(handler({ kind: 'scheduled-refresh' }, context)).rejects.toThrow('event.source');
  });

  it('refuses an arrival where segments do not come from S3 refreshes, naming the setting', async () => {
    const { handler } = await world(false);

    await expect(handler(objectCreated('refreshes/2026-12-03/manifest.json'), context)).rejects.toThrow(
      'env.SEGMENT_SOURCE',
    );
  });

  it('a retry of the same event takes back its own hold on the follow-up', async () => {
    const { h, handler } = await world();
    await h.state.refreshes.record({
      refreshId: '2026-12-03',
      outcome: 'complete',
      createdAt: '2026-12-03T06:00:00Z',
      arrivedAt: new Date(h.clock.now()).toISOString(),
      segments: [{ id: 'seg-a', name: 'Newsletter', profiles: 1, attributes: [] }],
    });
    const now = new Date(h.clock.now()).toISOString();
    await h.state.refreshes.lease(
      '2026-12-03',
      'event-1',
      now,
      new Date(h.clock.now() + 600_000).toISOString(),
    );

    const other = await handler(
      objectCreated('refreshes/2026-12-03/manifest.json', 'segments', 'event-2'),
      context,
    );
    const retry = await handler(
      objectCreated('refreshes/2026-12-03/manifest.json', 'segments', 'event-1'),
      context,
    );

    expect(other).toMatchObject({ followUp: 'none' });
    expect(retry).toMatchObject({ followUp: 'resumed' });
    expect(h.planQueue.messages).toHaveLength(1);
  });
});
