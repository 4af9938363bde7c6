import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import { TransientError } from '#lib/domain/errors.ts';
import type { PlanMessage } from '#lib/domain/messages.ts';
import type { RefreshManifest } from '#lib/domain/refresh-manifest.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { type Arrival, type RefreshArrivalDeps, refreshArrived } from '#lib/use-cases/refresh-arrival.ts';
import { INTERRUPTED_REASON } from '#lib/use-cases/refresh-resume.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { FakeRefreshReader } from '#test/fakes/fake-refresh-reader.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { InMemoryQueue } from '#test/fakes/in-memory-queue.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { aConnection, anExportRecord, aRun } from '#test/fixtures/state-records.ts';

const manifest = (segmentIds: string[], refreshId = '2026-12-03', createdAt = '2026-12-03T06:00:00Z') =>
  ({
    refreshId,
    createdAt,
    segments: segmentIds.map((id) => ({
      id,
      name: `Segment ${id}`,
      files: [{ key: `${id}/part-1.jsonl`, format: 'jsonl', rows: 3 }],
      attributes: ['email', 'city'],
    })),
  }) satisfies RefreshManifest;

/** Fails the named method of `port` once, as a function killed mid-call would leave it. */
const failingOnce = <T extends object>(port: T, method: keyof T, error = new Error('killed')): T => {
  const wrapped = Object.create(port) as T;
  let failed = false;
  const original = port[method] as (...args: unknown[]) => unknown;
  (wrapped as Record<keyof T, unknown>)[method] = (...args: unknown[]) => {
    if (!failed) {
      failed = true;
      return Promise.reject(error);
    }
    return original.apply(port, args);
  };
  return wrapped;
};

const world = async () => {
  const state = createInMemoryState();
  const reader = new FakeRefreshReader();
  const notifier = new RecordingNotifier();
  const planQueue = new InMemoryQueue<PlanMessage>();
  const logger = new RecordingLogger();
  const clock = new FakeClock();
  // Sizes and existence come from the ledger: starting a run never reads a folder.
  const noS3 = { send: () => Promise.reject(new Error('S3 must not be read')) } as unknown as S3Client;
  const segments = new RefreshSegmentSource({ client: noS3, bucket: 'segments', refreshes: state.refreshes });
  let n = 0;
  const deps: RefreshArrivalDeps = {
    ...state,
    reader,
    notifier,
    segments,
    planQueue,
    destinations: oneDestination(new InMemoryDestination()),
    clock,
    logger,
    newId: () => `run-${++n}`,
  };
  await state.connections.create(aConnection({ id: 'conn-1' }));
  const arrive = (refreshId = '2026-12-03', holder = 'event-1', d: Partial<RefreshArrivalDeps> = {}) =>
    refreshArrived({ ...deps, ...d }, {
      refreshId,
      holder,
      deadline: clock.now() + 300_000,
    } satisfies Arrival);
  const runsOf = async (exportId: string) => (await state.runs.list(exportId, 50)).runs;
  return { state, deps, reader, notifier, planQueue, logger, clock, segments, arrive, runsOf };
};

const queuedExports = (queue: InMemoryQueue<PlanMessage>): string[] =>
  queue.messages.map((m) => m.body.exportId).sort();

describe('refreshArrived', () => {
  it('the first arrival records each segment’s facts and starts every scheduled export using any of its segments', async () => {
    const { state, reader, planQueue, segments, arrive, runsOf } = await world();
    // An earlier refresh holds seg-other, which the arriving one does not.
    reader.put(manifest(['seg-other'], 'earlier', '2026-12-01T06:00:00Z'));
    await arrive('earlier');
    reader.put(manifest(['seg-vip', 'seg-gold']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(
      anExportRecord({ id: 'exp-both', segmentIds: ['seg-other', 'seg-gold'], scheduled: true }),
    );

    const summary = await arrive();

    expect(summary).toMatchObject({ outcome: 'complete', recorded: 'new', followUp: 'done', skipped: [] });
    expect(summary.started).toHaveLength(2);
    expect(queuedExports(planQueue)).toEqual(['exp-both', 'exp-vip']);
    for (const exportId of ['exp-vip', 'exp-both']) {
      expect(await runsOf(exportId)).toEqual([
        expect.objectContaining({
          status: 'planning',
          trigger: 'schedule',
          requestedBy: 'refresh',
          refreshId: '2026-12-03',
        }),
      ]);
    }
    expect(await segments.getSegment('seg-gold')).toEqual({
      id: 'seg-gold',
      name: 'Segment seg-gold',
      profiles: 3,
      attributes: ['email', 'city'],
    });
    expect(await state.refreshes.get('2026-12-03')).toMatchObject({ settledAt: expect.any(String) });
  });

  it('a duplicate arrival starts nothing and reads nothing from the folder', async () => {
    const { state, reader, planQueue, logger, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await arrive();
    // The first run has ended, so only the ledger can stop a second start.
    const [first] = await runsOf('exp-vip');
    await state.runs.transition(first?.id ?? '', ['planning'], 'succeeded');
    const readsBefore = reader.reads.length;

    const again = await arrive('2026-12-03', 'event-2');

    expect(again).toMatchObject({ recorded: 'seen', followUp: 'none', started: [], skipped: [] });
    expect(reader.reads).toHaveLength(readsBefore);
    expect(planQueue.messages).toHaveLength(1);
    expect(await runsOf('exp-vip')).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes('refresh already recorded and followed up'))).toBe(true);
  });

  it('two arrivals of one refresh at once start each export once', async () => {
    const { state, reader, planQueue, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-a', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(anExportRecord({ id: 'exp-b', segmentIds: ['seg-vip'], scheduled: true }));

    const answers = await Promise.all([arrive('2026-12-03', 'event-1'), arrive('2026-12-03', 'event-2')]);

    expect(answers.map((a) => a.recorded).sort()).toEqual(['new', 'seen']);
    expect(queuedExports(planQueue)).toEqual(['exp-a', 'exp-b']);
    for (const exportId of ['exp-a', 'exp-b']) expect(await runsOf(exportId)).toHaveLength(1);
  });

  it('an export using none of the segments, not scheduled or detached is not started', async () => {
    const { state, reader, planQueue, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(
      anExportRecord({ id: 'exp-other', segmentIds: ['seg-other'], scheduled: true }),
    );
    await state.exports.create(
      anExportRecord({ id: 'exp-manual', segmentIds: ['seg-vip'], scheduled: false }),
    );
    await state.exports.create(
      anExportRecord({ id: 'exp-detached', segmentIds: ['seg-vip'], scheduled: true, connectionId: null }),
    );

    const summary = await arrive();

    expect(summary.started).toHaveLength(1);
    expect(summary.skipped).toEqual([]);
    expect(queuedExports(planQueue)).toEqual(['exp-vip']);
    for (const exportId of ['exp-other', 'exp-manual', 'exp-detached'])
      expect(await runsOf(exportId)).toEqual([]);
  });

  it('an export whose run lock is held is skipped, counted, and its history says why', async () => {
    const { state, reader, planQueue, arrive } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-busy', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(anExportRecord({ id: 'exp-free', segmentIds: ['seg-vip'], scheduled: true }));
    await state.runs.create(aRun({ id: 'run-active', exportId: 'exp-busy', status: 'sending' }));
    expect(await state.exports.claimActiveRun('exp-busy', 'run-active')).toBe(true);

    const summary = await arrive();

    expect(summary.started).toHaveLength(1);
    expect(summary.skipped).toEqual([
      { exportId: 'exp-busy', runId: expect.any(String), reason: expect.stringContaining('run-active') },
    ]);
    expect(queuedExports(planQueue)).toEqual(['exp-free']);
    expect(await state.runs.get(summary.skipped[0]?.runId ?? '')).toMatchObject({
      exportId: 'exp-busy',
      status: 'skipped',
      refreshId: '2026-12-03',
    });
  });

  it('an export that cannot run gets a skipped run saying why, and the others still start', async () => {
    const { state, reader, planQueue, arrive } = await world();
    reader.put(manifest(['seg-vip'], 'drop-7'));
    await state.connections.create(aConnection({ id: 'conn-bad', status: 'invalid_key' }));
    await state.exports.create(
      anExportRecord({ id: 'exp-bad', segmentIds: ['seg-vip'], scheduled: true, connectionId: 'conn-bad' }),
    );
    await state.exports.create(anExportRecord({ id: 'exp-ok', segmentIds: ['seg-vip'], scheduled: true }));

    const summary = await arrive('drop-7');

    expect(queuedExports(planQueue)).toEqual(['exp-ok']);
    expect(summary.skipped).toEqual([
      { exportId: 'exp-bad', runId: expect.any(String), reason: expect.stringContaining('rotate') },
    ]);
    expect(await state.runs.get(summary.skipped[0]?.runId ?? '')).toMatchObject({
      status: 'skipped',
      trigger: 'schedule',
      requestedBy: 'refresh',
      refreshId: 'drop-7',
    });
  });

  it('an export also using a segment no refresh holds yet is skipped, naming the segment', async () => {
    const { state, reader, arrive } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(
      anExportRecord({ id: 'exp-mixed', segmentIds: ['seg-vip', 'seg-never'], scheduled: true }),
    );

    const summary = await arrive();

    expect(summary.skipped).toEqual([
      { exportId: 'exp-mixed', runId: expect.any(String), reason: expect.stringContaining('seg-never') },
    ]);
  });
});

describe('refreshArrived: rejected refreshes', () => {
  it('a refresh whose files disagree with its manifest is rejected: notified once, no run, never a segment’s refresh', async () => {
    const { state, reader, notifier, planQueue, segments, arrive, runsOf } = await world();
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    reader.put(manifest(['seg-vip'], 'good', '2026-12-02T06:00:00Z'));
    await arrive('good');
    const mismatch = 'segments[0].files[0] (seg-vip/part-1.jsonl).rows: declared 3, the file has 2';
    reader.put(manifest(['seg-vip'], 'bad', '2026-12-04T06:00:00Z'), { mismatches: [mismatch] });
    const runsBefore = planQueue.messages.length;

    const summary = await arrive('bad');
    const readsAfterFirst = reader.reads.length;
    const again = await arrive('bad', 'event-2');

    expect(summary).toMatchObject({
      outcome: 'rejected',
      recorded: 'new',
      followUp: 'done',
      reasons: [mismatch],
    });
    expect(again).toMatchObject({
      outcome: 'rejected',
      recorded: 'seen',
      followUp: 'none',
      reasons: [mismatch],
    });
    expect(reader.reads).toHaveLength(readsAfterFirst);
    expect(notifier.rejectedRefreshes).toEqual([{ refreshId: 'bad', reasons: [mismatch] }]);
    expect(planQueue.messages).toHaveLength(runsBefore);
    expect((await runsOf('exp-vip')).map((r) => r.refreshId)).toEqual(['good']);
    expect(await state.refreshes.newestFor('seg-vip')).toMatchObject({ refreshId: 'good' });
    expect(await segments.getSegment('seg-vip')).toMatchObject({ id: 'seg-vip', profiles: 3 });
  });

  it('a malformed manifest is rejected with the field named, not thrown', async () => {
    const { state, reader, notifier, arrive } = await world();
    reader.putUnreadable('broken', ['segments[0].files[0].key: must not contain ".."']);

    const summary = await arrive('broken');

    expect(summary).toMatchObject({
      outcome: 'rejected',
      reasons: ['segments[0].files[0].key: must not contain ".."'],
    });
    expect(await state.refreshes.get('broken')).toMatchObject({ outcome: 'rejected', segmentIds: [] });
    expect(notifier.rejectedRefreshes).toHaveLength(1);
    // Nothing past an unreadable manifest is read.
    expect(reader.reads).toEqual(['manifest:broken']);
  });

  it('a refresh with many problems keeps the first twenty and counts the rest', async () => {
    const { reader, notifier, arrive } = await world();
    const problems = Array.from(
      { length: 45 },
      (_, i) => `segments[${i}].files[0].rows: declared 1, the file has 0`,
    );
    reader.put(manifest(['seg-vip'], 'many'), { mismatches: problems });

    await arrive('many');

    const reasons = notifier.rejectedRefreshes[0]?.reasons ?? [];
    expect(reasons).toHaveLength(21);
    expect(reasons.slice(0, 20)).toEqual(problems.slice(0, 20));
    expect(reasons[20]).toBe('…and 25 more problems');
  });
});

describe('refreshArrived: failures and crashes', () => {
  it('a store that cannot be reached throws and records nothing; the retry records the refresh and starts it', async () => {
    const { state, reader, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    reader.failure = new TransientError('Cannot read s3://segments/refreshes/2026-12-03/manifest.json: 503');

    await expect(arrive()).rejects.toThrow('503');
    expect(await state.refreshes.get('2026-12-03')).toBeUndefined();

    reader.failure = undefined;
    expect(await arrive()).toMatchObject({ outcome: 'complete', recorded: 'new' });
    expect(await runsOf('exp-vip')).toHaveLength(1);
  });

  it('an arrival killed after recording the refresh is resumed by its retry, which starts the runs', async () => {
    const { state, reader, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));

    await expect(
      arrive('2026-12-03', 'event-1', { exports: failingOnce(state.exports, 'list') }),
    ).rejects.toThrow('killed');
    const retry = await arrive('2026-12-03', 'event-1');

    expect(retry).toMatchObject({ recorded: 'seen', followUp: 'resumed' });
    expect((await runsOf('exp-vip')).map((r) => r.refreshId)).toEqual(['2026-12-03']);
  });

  it('while the killed arrival’s hold lasts no other arrival resumes; after its deadline one does', async () => {
    const { state, reader, clock, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await expect(
      arrive('2026-12-03', 'event-1', { exports: failingOnce(state.exports, 'list') }),
    ).rejects.toThrow();

    expect(await arrive('2026-12-03', 'event-2')).toMatchObject({ followUp: 'none' });
    expect(await runsOf('exp-vip')).toEqual([]);

    clock.advance(300_001);
    expect(await arrive('2026-12-03', 'event-2')).toMatchObject({ followUp: 'resumed' });
    expect(await runsOf('exp-vip')).toHaveLength(1);
  });

  it('resuming starts only the exports without a run of the refresh', async () => {
    const { state, reader, planQueue, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-a', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(anExportRecord({ id: 'exp-b', segmentIds: ['seg-vip'], scheduled: true }));
    // exp-a is started first; recording exp-b's run fails once.
    let creates = 0;
    const runs = Object.create(state.runs) as typeof state.runs;
    runs.create = async (run) => {
      if (++creates === 2) throw new Error('throttled');
      return state.runs.create(run);
    };

    await expect(arrive('2026-12-03', 'event-1', { runs })).rejects.toThrow('could not start');
    const retry = await arrive('2026-12-03', 'event-1');

    expect(retry).toMatchObject({ followUp: 'resumed', alreadyStarted: ['exp-a'] });
    expect(retry.started).toHaveLength(1);
    for (const exportId of ['exp-a', 'exp-b']) {
      expect((await runsOf(exportId)).map((r) => [r.refreshId, r.status])).toEqual([
        ['2026-12-03', 'planning'],
      ]);
    }
    expect(new Set(queuedExports(planQueue))).toEqual(new Set(['exp-a', 'exp-b']));
  });

  it('a run recorded and holding its export whose plan message was lost is planned by the resume, not started again', async () => {
    const { state, reader, planQueue, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));

    await expect(
      arrive('2026-12-03', 'event-1', { planQueue: failingOnce(planQueue, 'send') }),
    ).rejects.toThrow('could not start');
    expect(planQueue.messages).toHaveLength(0);
    await arrive('2026-12-03', 'event-1');

    const runs = await runsOf('exp-vip');
    expect(runs).toHaveLength(1);
    expect(planQueue.messages.map((m) => m.body.runId)).toEqual([runs[0]?.id]);
  });

  it('a run recorded before it could take its export is marked skipped by the resume, and a new run starts', async () => {
    const { state, reader, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));

    await expect(
      arrive('2026-12-03', 'event-1', { exports: failingOnce(state.exports, 'claimActiveRun') }),
    ).rejects.toThrow('could not start');
    await arrive('2026-12-03', 'event-1');

    const runs = await runsOf('exp-vip');
    expect(runs.map((r) => r.status).sort()).toEqual(['planning', 'skipped']);
    expect(runs.find((r) => r.status === 'skipped')?.reason).toBe(INTERRUPTED_REASON);
    expect((await state.exports.get('exp-vip'))?.activeRunId).toBe(
      runs.find((r) => r.status === 'planning')?.id,
    );
  });

  it('an arrival killed after starting every run but before marking them resumes without starting any again', async () => {
    const { state, reader, arrive, runsOf } = await world();
    reader.put(manifest(['seg-vip']));
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));

    await expect(
      arrive('2026-12-03', 'event-1', { refreshes: failingOnce(state.refreshes, 'settle') }),
    ).rejects.toThrow('killed');
    const retry = await arrive('2026-12-03', 'event-1');

    expect(retry).toMatchObject({ followUp: 'resumed', started: [], alreadyStarted: ['exp-vip'] });
    expect(await runsOf('exp-vip')).toHaveLength(1);
  });

  it('a rejection whose notification failed is notified by the retry, once', async () => {
    const { state, reader, notifier, arrive } = await world();
    reader.put(manifest(['seg-vip'], 'bad'), { mismatches: ['rows differ'] });

    await expect(
      arrive('bad', 'event-1', { notifier: failingOnce(notifier, 'refreshRejected') }),
    ).rejects.toThrow('killed');
    expect(await arrive('bad', 'event-1')).toMatchObject({ followUp: 'resumed' });
    await arrive('bad', 'event-2');

    expect(notifier.rejectedRefreshes).toEqual([{ refreshId: 'bad', reasons: ['rows differ'] }]);
    expect(await state.refreshes.get('bad')).toMatchObject({ settledAt: expect.any(String) });
  });
});
