import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { endStalledRuns } from '#lib/use-cases/end-stalled-runs.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => ({
    id: String(from + i).padStart(6, '0'),
    attributes: { email: `p${from + i}@example.com` },
  }));

const MINUTE = 60_000;

describe('the watchdog', () => {
  it('ends a run that stopped moving as failed "Stalled", frees the export, and the next run sends what was not sent', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [, ...delivered] = h.sendQueue.take(); // the first batch never arrives
    for (const b of delivered) await sendBatch(h.sendDeps, JSON.stringify(b), h.remainingMs);
    expect((await h.run(run.id)).status).toBe('sending');

    h.clock.advance(29 * MINUTE);
    expect((await endStalledRuns(h.lifecycle)).ended).toEqual([]);
    h.clock.advance(2 * MINUTE);
    expect((await endStalledRuns(h.lifecycle)).ended).toEqual([run.id]);

    const ended = await h.run(run.id);
    expect(ended.status).toBe('failed');
    expect(ended.reason).toMatch(/^Stalled: no progress for more than 30 minutes/);
    expect(ended.itemsPlanned).toBe(250);
    expect(ended.progress.accepted).toBe(150);
    expect((await h.state.exports.get('exp-1'))?.activeRunId).toBeUndefined();
    expect(h.notifier.runs.map((r) => r.status)).toEqual(['failed']);

    const next = await h.start();
    expect(next.started).toBe(true);
    await h.drain();
    expect((await h.run(next.run.id)).planning).toMatchObject({ added: 100, unchanged: 150 });
  });

  it('a dead-letter re-drive of a batch of an ended run is recorded as not sent once and never reopens it', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [stuck, ...delivered] = h.sendQueue.take();
    for (const b of delivered) await sendBatch(h.sendDeps, JSON.stringify(b), h.remainingMs);
    h.clock.advance(31 * MINUTE);
    await endStalledRuns(h.lifecycle);
    const before = await h.run(run.id);

    for (let i = 0; i < 2; i++) await sendBatch(h.sendDeps, JSON.stringify(stuck), h.remainingMs);

    const after = await h.run(run.id);
    expect(after.status).toBe('failed');
    expect(after.reason).toBe(before.reason);
    expect(after.progress).toMatchObject({ batchesDone: 3, accepted: 150, dropped: 100 });
    expect(after.progress.batchesDone).toBeLessThanOrEqual(after.batchesTotal ?? 0);
    expect(h.destination.requests.filter((r) => r.kind === 'bulkUpsert')).toHaveLength(2);
  });

  it('leaves alone a run that is still moving, and a run whose planner holds its lease', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    await h.state.plans.lease(
      run.id,
      'planner-1',
      new Date(h.clock.now()).toISOString(),
      new Date(h.clock.now() + 40 * MINUTE).toISOString(),
    );
    h.clock.advance(35 * MINUTE);
    expect((await endStalledRuns(h.lifecycle)).ended).toEqual([]);
    await h.state.plans.release(run.id, 'planner-1');
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [first] = h.sendQueue.take();
    h.clock.advance(20 * MINUTE);
    await sendBatch(h.sendDeps, JSON.stringify(first), h.remainingMs);
    h.clock.advance(20 * MINUTE);
    expect((await endStalledRuns(h.lifecycle)).ended).toEqual([]);
  });

  it('ends a stalled dry run too, so the next dry run can start', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    await h.addConnection();
    await h.addExport();
    const dry = await h.start('exp-1', 'dry-run');
    h.planQueue.take(); // its plan message is lost
    expect((await h.start('exp-1', 'dry-run')).started).toBe(false);
    h.clock.advance(31 * MINUTE);
    expect((await endStalledRuns(h.lifecycle)).ended).toEqual([dry.run.id]);
    expect((await h.start('exp-1', 'dry-run')).started).toBe(true);
  });
});

describe('dry runs', () => {
  it('one dry run at a time per export, and a dry run never blocks a real run', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    await h.addConnection();
    await h.addExport();
    const first = await h.start('exp-1', 'dry-run');
    const second = await h.start('exp-1', 'dry-run');
    expect(second.started).toBe(false);
    expect(second.run.reason).toContain(first.run.id);
    expect((await h.start()).started).toBe(true);
    await h.drain();
    expect((await h.run(first.run.id)).status).toBe('succeeded');
    expect((await h.start('exp-1', 'dry-run')).started).toBe(true);
  });
});

describe('a run uses the configuration it started with', () => {
  it('an edit made while the run is planned does not change the run', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    await h.addConnection();
    const exp = await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    await h.state.exports.revise(
      exp.id,
      exp.version,
      { membership: 'list', dataMatching: { ...exp.dataMatching, email: 'nowhere' } },
      { by: 'editor', at: new Date(h.clock.now()).toISOString() },
    );
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.accepted).toBe(10);
    expect(h.destination.count('bulkUpsert')).toBe(1);
    expect(h.destination.lists.size).toBe(0);
  });
});
