import { describe, expect, it } from 'vitest';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import type { PlanMessage } from '#lib/domain/messages.ts';
import type { RefreshManifest } from '#lib/domain/refresh-manifest.ts';
import { startRefreshRuns } from '#lib/use-cases/refresh-arrival.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryQueue } from '#test/fakes/in-memory-queue.ts';
import { InMemorySegmentSource } from '#test/fakes/in-memory-segments.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { aConnection, anExportRecord, aRun } from '#test/fixtures/state-records.ts';

const manifest = (segmentIds: string[], refreshId = '2026-12-03'): RefreshManifest => ({
  refreshId,
  createdAt: '2026-12-03T06:00:00Z',
  segments: segmentIds.map((id) => ({
    id,
    name: id,
    files: [{ key: `${id}/part-1.jsonl`, format: 'jsonl' }],
  })),
});

const world = async () => {
  const state = createInMemoryState();
  const segments = new InMemorySegmentSource();
  for (const id of ['seg-vip', 'seg-gold', 'seg-other']) {
    segments.set(id, id, [{ id: 'p1', attributes: { email: 'p1@example.com' } }]);
  }
  const planQueue = new InMemoryQueue<PlanMessage>();
  const logger = new RecordingLogger();
  let n = 0;
  const deps = {
    ...state,
    segments,
    planQueue,
    costs: autopilotCosts,
    clock: new FakeClock(),
    logger,
    newId: () => `run-${++n}`,
  };
  await state.connections.create(aConnection({ id: 'conn-1' }));
  return { state, deps, planQueue, logger };
};

const queuedExports = (queue: InMemoryQueue<PlanMessage>): string[] =>
  queue.messages.map((m) => m.body.exportId).sort();

describe('startRefreshRuns', () => {
  it('one arrival starts each scheduled export using any of its segments, once', async () => {
    const { state, deps, planQueue } = await world();
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(
      anExportRecord({ id: 'exp-both', segmentIds: ['seg-other', 'seg-gold'], scheduled: true }),
    );

    const summary = await startRefreshRuns(deps, manifest(['seg-vip', 'seg-gold']));

    expect(summary).toMatchObject({ refreshId: '2026-12-03', recorded: 'new', skipped: [] });
    expect(summary.started).toHaveLength(2);
    expect(queuedExports(planQueue)).toEqual(['exp-both', 'exp-vip']);
    for (const exportId of ['exp-vip', 'exp-both']) {
      const { runs } = await state.runs.list(exportId, 10);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        status: 'planning',
        trigger: 'schedule',
        requestedBy: 'refresh',
        refreshId: '2026-12-03',
      });
    }
  });

  it('a duplicate arrival of the same refresh starts nothing and says so', async () => {
    const { state, deps, planQueue, logger } = await world();
    await state.exports.create(anExportRecord({ id: 'exp-vip', segmentIds: ['seg-vip'], scheduled: true }));
    await startRefreshRuns(deps, manifest(['seg-vip']));
    // The first run has ended, so only the ledger can stop a second start.
    const [first] = (await state.runs.list('exp-vip', 10)).runs;
    await state.runs.transition(first?.id ?? '', ['planning'], 'succeeded');

    const again = await startRefreshRuns(deps, manifest(['seg-vip']));

    expect(again).toEqual({ refreshId: '2026-12-03', recorded: 'seen', started: [], skipped: [] });
    expect(planQueue.messages).toHaveLength(1);
    expect((await state.runs.list('exp-vip', 10)).runs).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes('refresh already recorded'))).toBe(true);
  });

  it('an export using none of the segments, not scheduled or detached is not started', async () => {
    const { state, deps, planQueue } = await world();
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

    const summary = await startRefreshRuns(deps, manifest(['seg-vip']));

    expect(summary.started).toHaveLength(1);
    expect(summary.skipped).toEqual([]);
    expect(queuedExports(planQueue)).toEqual(['exp-vip']);
    for (const exportId of ['exp-other', 'exp-manual', 'exp-detached']) {
      expect((await state.runs.list(exportId, 10)).runs).toEqual([]);
    }
  });

  it('an export whose run lock is held is skipped, counted, and its history says why', async () => {
    const { state, deps, planQueue } = await world();
    await state.exports.create(anExportRecord({ id: 'exp-busy', segmentIds: ['seg-vip'], scheduled: true }));
    await state.exports.create(anExportRecord({ id: 'exp-free', segmentIds: ['seg-vip'], scheduled: true }));
    await state.runs.create(aRun({ id: 'run-active', exportId: 'exp-busy', status: 'sending' }));
    expect(await state.exports.claimActiveRun('exp-busy', 'run-active')).toBe(true);

    const summary = await startRefreshRuns(deps, manifest(['seg-vip']));

    expect(summary.started).toHaveLength(1);
    expect(summary.skipped).toEqual([
      { exportId: 'exp-busy', runId: expect.any(String), reason: expect.stringContaining('run-active') },
    ]);
    expect(queuedExports(planQueue)).toEqual(['exp-free']);
    const skippedRun = await state.runs.get(summary.skipped[0]?.runId ?? '');
    expect(skippedRun).toMatchObject({ exportId: 'exp-busy', status: 'skipped' });
  });

  it('an export that cannot run gets a skipped run saying why, and the others still start', async () => {
    const { state, deps, planQueue } = await world();
    await state.connections.create(aConnection({ id: 'conn-bad', status: 'invalid_key' }));
    await state.exports.create(
      anExportRecord({ id: 'exp-bad', segmentIds: ['seg-vip'], scheduled: true, connectionId: 'conn-bad' }),
    );
    await state.exports.create(anExportRecord({ id: 'exp-ok', segmentIds: ['seg-vip'], scheduled: true }));

    const summary = await startRefreshRuns(deps, manifest(['seg-vip'], 'drop-7'));

    expect(queuedExports(planQueue)).toEqual(['exp-ok']);
    expect(summary.skipped).toEqual([
      { exportId: 'exp-bad', runId: expect.any(String), reason: expect.stringContaining('rotate') },
    ]);
    expect(await state.runs.get(summary.skipped[0]?.runId ?? '')).toMatchObject({
      exportId: 'exp-bad',
      status: 'skipped',
      trigger: 'schedule',
      requestedBy: 'refresh',
      refreshId: 'drop-7',
    });
  });
});
