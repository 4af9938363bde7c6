import { describe, expect, it } from 'vitest';
import { KEY_REJECTED_REASON } from '#lib/domain/export-health.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import type { HealthChange, Notifier } from '#lib/ports/notifier.ts';
import { recordRunHealth } from '#lib/use-cases/export-health.ts';
import { endRun, finaliseIfComplete } from '#lib/use-cases/run-lifecycle.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { anExportRecord, aRun, emptyProgress } from '#test/fixtures/state-records.ts';

const setup = async () => {
  const state = createInMemoryState();
  const clock = new FakeClock();
  const notifier = new RecordingNotifier();
  await state.exports.create(
    anExportRecord({
      id: 'exp-1',
      name: 'Weekly VIPs',
      notifications: { webhookUrl: 'https://hooks.example.com/x' },
    }),
  );
  const deps = { ...state, notifier, clock, logger: silentLogger };
  let n = 0;
  /** Starts a run (one minute after the previous) and ends it as given, through the real lifecycle. */
  const runEnding = async (
    end: 'succeeded' | 'completed_with_errors' | 'failed' | 'cancelled',
    reason = 'Segment s no longer exists.',
  ) => {
    n += 1;
    clock.advance(60_000);
    const failed = end === 'completed_with_errors' ? 1 : 0;
    // Every batch recorded: the lifecycle's finaliser decides succeeded or completed_with_errors.
    const run = aRun({
      id: `run-${n}`,
      createdAt: new Date(clock.now()).toISOString(),
      status: 'sending',
      planningDone: true,
      batchesTotal: 1,
      progress: { ...emptyProgress(), batchesDone: 1, accepted: 1, failed },
    });
    await state.runs.create(run);
    await state.exports.claimActiveRun('exp-1', run.id);
    if (end === 'failed' || end === 'cancelled') await endRun(deps, run, end, reason);
    else await finaliseIfComplete(deps, run.id);
    expect((await state.runs.get(run.id))?.status).toBe(end);
    return run.id;
  };
  return { state, clock, notifier, deps, runEnding };
};

describe('export health: one notification per change', () => {
  it('failing → failing → recovered sends exactly two notifications', async () => {
    const { notifier, runEnding, state } = await setup();

    await runEnding('failed', 'Segment vip no longer exists.');
    await runEnding('completed_with_errors');
    await runEnding('succeeded');

    expect(notifier.changes.map((c) => [c.from, c.to, c.failingRuns])).toEqual([
      [undefined, 'failing', 1],
      ['failing', 'healthy', 2],
    ]);
    expect(notifier.changes[0]).toMatchObject({
      exportName: 'Weekly VIPs',
      reason: 'Segment vip no longer exists.',
      webhookUrl: 'https://hooks.example.com/x',
    });
    expect(notifier.changes[0]?.run.id).toBe('run-1');
    expect((await state.exports.get('exp-1'))?.health).toMatchObject({ state: 'healthy', failingRuns: 0 });
  });

  it('healthy → healthy sends none, the first healthy run included', async () => {
    const { notifier, runEnding, state } = await setup();

    await runEnding('succeeded');
    await runEnding('succeeded');

    expect(notifier.changes).toEqual([]);
    expect((await state.exports.get('exp-1'))?.health).toMatchObject({ state: 'healthy', runId: 'run-2' });
  });

  it('a rejected key is its own state, and a failing run after it is news again', async () => {
    const { notifier, runEnding } = await setup();

    await runEnding('succeeded');
    await runEnding('failed', KEY_REJECTED_REASON);
    await runEnding('failed', KEY_REJECTED_REASON);
    await runEnding('failed', 'Stalled: no progress for more than 30 minutes.');

    expect(notifier.changes.map((c) => [c.from, c.to, c.failingRuns])).toEqual([
      ['healthy', 'key_rejected', 1],
      ['key_rejected', 'failing', 3],
    ]);
  });

  it('a cancelled run changes nothing', async () => {
    const { notifier, runEnding, state } = await setup();

    await runEnding('failed');
    await runEnding('cancelled', 'Cancelled by u1.');

    expect(notifier.changes).toHaveLength(1);
    expect((await state.exports.get('exp-1'))?.health).toMatchObject({ state: 'failing', runId: 'run-1' });
  });

  it('two runs ending at once with the same news notify once', async () => {
    const { state, clock, deps } = await setup();
    const counting: Notifier & { seen: HealthChange[] } = {
      seen: [],
      async healthChanged(c) {
        this.seen.push(c);
      },
      async runHeld() {},
      async refreshRejected() {},
    };
    const at = (id: string, minutes: number) =>
      aRun({
        id,
        createdAt: new Date(clock.now() + minutes * 60_000).toISOString(),
        status: 'failed',
        reason: 'x',
      });

    await Promise.all([
      recordRunHealth({ ...deps, notifier: counting }, at('run-a', 1)),
      recordRunHealth({ ...deps, notifier: counting }, at('run-b', 2)),
      recordRunHealth({ ...deps, notifier: counting }, at('run-a', 1)),
    ]);

    expect(counting.seen.map((c) => c.to)).toEqual(['failing']);
    expect((await state.exports.get('exp-1'))?.health).toMatchObject({ failingRuns: 2, runId: 'run-b' });
  });

  it('an older run ending late never overwrites a newer run’s health', async () => {
    const { state, clock, deps, notifier } = await setup();
    const at = (id: string, minutes: number, status: RunRecord['status']) =>
      aRun({ id, createdAt: new Date(clock.now() + minutes * 60_000).toISOString(), status });

    await recordRunHealth(deps, at('run-new', 2, 'succeeded'));
    await recordRunHealth(deps, at('run-old', 1, 'failed'));

    expect(notifier.changes).toEqual([]);
    expect((await state.exports.get('exp-1'))?.health?.runId).toBe('run-new');
  });

  it('a held run (awaiting approval) is news, and so is its recovery', async () => {
    const { deps, notifier, clock } = await setup();
    const at = (id: string, minutes: number, status: string) =>
      ({
        ...aRun({ id, createdAt: new Date(clock.now() + minutes * 60_000).toISOString() }),
        status,
      }) as RunRecord;

    await recordRunHealth(deps, at('run-1', 1, 'succeeded'));
    await recordRunHealth(deps, at('run-2', 2, 'awaiting_approval'));
    await recordRunHealth(deps, at('run-3', 3, 'succeeded'));

    expect(notifier.changes.map((c) => [c.from, c.to])).toEqual([
      ['healthy', 'held'],
      ['held', 'healthy'],
    ]);
  });

  it('the held run itself ending after approval clears the hold', async () => {
    const { deps, notifier, clock, state } = await setup();
    const at = (id: string, minutes: number, status: string) =>
      ({
        ...aRun({ id, createdAt: new Date(clock.now() + minutes * 60_000).toISOString() }),
        status,
      }) as RunRecord;

    await recordRunHealth(deps, at('run-1', 1, 'succeeded'));
    await recordRunHealth(deps, at('run-2', 2, 'awaiting_approval'));
    await recordRunHealth(deps, at('run-2', 2, 'succeeded'));
    // Its own hold told again (a redelivered hold) is no news.
    await recordRunHealth(deps, at('run-2', 2, 'awaiting_approval'));

    expect(notifier.changes.map((c) => [c.from, c.to])).toEqual([
      ['healthy', 'held'],
      ['held', 'healthy'],
    ]);
    expect((await state.exports.get('exp-1'))?.health?.state).toBe('healthy');
  });
});
