import { beforeEach, describe, expect, it } from 'vitest';
import { type Caller, ForbiddenError } from '#lib/domain/access.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import type { ExportConfigInput } from '#lib/domain/export-config.ts';
import { MESSAGE_VERSION } from '#lib/domain/messages.ts';
import { endStalledRuns } from '#lib/use-cases/end-stalled-runs.ts';
import { cancelRun } from '#lib/use-cases/manage-runs.ts';
import { decideHeldRemovals } from '#lib/use-cases/removal-approval.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const ADMIN: Caller = { id: 'admin-1', role: 'admin' };
const CONTRIBUTOR: Caller = { id: 'contrib-1', role: 'contributor' };

const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => ({
    id: String(from + i),
    attributes: { email: `p${from + i}@example.com`, first_name: `P${from + i}` },
  }));

const decisionDeps = (h: PipelineHarness) => ({
  ...h.lifecycle,
  audit: h.state.audit,
  connections: h.state.connections,
  planQueue: h.planQueue,
});

/** A first run that puts 1,000 contacts on the Newsletter list (and 50 on Customers), then `next` segments. */
const exported = async (config: Partial<ExportConfigInput> = {}): Promise<PipelineHarness> => {
  const h = new PipelineHarness();
  h.segments.set('seg-a', 'Newsletter', people(0, 1000));
  h.segments.set('seg-b', 'Customers', people(2000, 2050));
  await h.addConnection();
  await h.addExport({ segmentIds: ['seg-a', 'seg-b'], ...config });
  const first = await h.start();
  await h.drain();
  expect((await h.run(first.run.id)).status).toBe('succeeded');
  return h;
};

const runAgain = async (h: PipelineHarness): Promise<string> => {
  const started = await h.start();
  expect(started.started).toBe(true);
  await h.drain();
  return started.run.id;
};

const auditActions = async (h: PipelineHarness): Promise<string[]> =>
  (await h.state.audit.list({ resourceType: 'export', resourceId: 'exp-1', limit: 10 })).entries.map(
    (e) => e.action,
  );

const removalsSent = (h: PipelineHarness): number => h.destination.count('listRemove');

describe('removal guardrail (list mode)', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await exported();
  });

  it('a segment that drops from 1,000 to 0 holds the run and sends no removal', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    h.segments.set('seg-b', 'Customers', people(2000, 2060)); // 10 joins still go out
    const runId = await runAgain(h);
    const run = await h.run(runId);
    expect(run.status).toBe('awaiting_approval');
    expect(run.hold?.targets).toEqual([
      { segmentId: 'seg-a', target: 'Newsletter', members: 1000, removals: 1000, exceeds: true },
    ]);
    expect(run.hold?.removals).toBe(1000);
    expect(removalsSent(h)).toBe(0);
    expect(h.destination.memberEmails('Newsletter')).toHaveLength(1000);
    expect(h.destination.memberEmails('Customers')).toHaveLength(60);
    // The plan is decided and its numbers are on the run; only the joins' batches are done.
    expect(run.planning).toMatchObject({ leaves: [1000, 0], joins: [0, 10] });
    expect(run.progress.batchesDone).toBe(run.hold?.firstBatch);
    expect(run.batchesTotal).toBeGreaterThan(run.hold?.firstBatch ?? Number.POSITIVE_INFINITY);
    expect(h.notifier.held.map((r) => r.id)).toEqual([runId]);
    expect(h.notifier.changes.map((c) => [c.to, c.run.id])).toEqual([['held', runId]]);
    // The export stays locked while it waits: a refresh meanwhile records a skipped run.
    const meanwhile = await h.start('exp-1', 'schedule');
    expect(meanwhile.started).toBe(false);
    expect(meanwhile.run.status).toBe('skipped');
    expect(meanwhile.run.reason).toBe(
      `Run ${runId} of this export is awaiting approval of its removals; runs never overlap.`,
    );
  });

  it('approving queues the held removals once: a second approve is a conflict and nothing is sent twice', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    const runId = await runAgain(h);
    const approved = await decideHeldRemovals(decisionDeps(h), runId, 'approved', ADMIN);
    expect(approved.status).toBe('sending');
    await expect(decideHeldRemovals(decisionDeps(h), runId, 'approved', ADMIN)).rejects.toThrow(
      ConflictError,
    );
    // The approval's plan message delivered twice still sends each removal once.
    h.planQueue.messages.push({
      body: { v: MESSAGE_VERSION, type: 'plan', runId, exportId: 'exp-1', resume: true },
      delaySeconds: 0,
    });
    await h.drain();
    const run = await h.run(runId);
    expect(run.status).toBe('succeeded');
    expect(removalsSent(h)).toBe(1000);
    expect(h.destination.memberEmails('Newsletter')).toEqual([]);
    expect(run.progress).toMatchObject({ accepted: 1000, failed: 0, dropped: 0 });
    expect(run.hold?.decision).toMatchObject({ outcome: 'approved', by: 'admin-1' });
    expect(await auditActions(h)).toContain('run.approved');
    await expect(decideHeldRemovals(decisionDeps(h), runId, 'rejected', ADMIN)).rejects.toThrow(
      ConflictError,
    );
  });

  it('rejecting drops the held removals, counts add up, and the next run holds them again', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    const runId = await runAgain(h);
    await decideHeldRemovals(decisionDeps(h), runId, 'rejected', ADMIN);
    await h.drain();
    const run = await h.run(runId);
    expect(run.status).toBe('completed_with_errors');
    expect(run.reason).toMatch(/1,000 removals .* rejected by admin-1/);
    expect(run.progress).toMatchObject({ accepted: 0, failed: 0, dropped: 1000 });
    expect(run.progress.batchesDone).toBe(run.batchesTotal);
    expect(run.progress.accepted + run.progress.failed + run.progress.dropped).toBe(run.itemsPlanned);
    expect(removalsSent(h)).toBe(0);
    expect(h.destination.memberEmails('Newsletter')).toHaveLength(1000);
    expect(await auditActions(h)).toContain('run.rejected');
    // The snapshot still holds them as members: the next run sees the same leavers and holds again.
    const next = await h.run(await runAgain(h));
    expect(next.status).toBe('awaiting_approval');
    expect(next.hold?.targets[0]).toMatchObject({ members: 1000, removals: 1000 });
  });

  it('removals at or under either threshold are sent without a hold', async () => {
    h.segments.set('seg-a', 'Newsletter', people(0, 900)); // 100 removals: not more than 100
    h.segments.set('seg-b', 'Customers', []); // 50 of 50: all of it, but only 50 contacts
    const run = await h.run(await runAgain(h));
    expect(run.status).toBe('succeeded');
    expect(run.hold).toBeUndefined();
    expect(removalsSent(h)).toBe(150);
    expect(h.notifier.held).toEqual([]);
  });

  it('101 removals of 1,000 (over 10% and over 100) hold the run', async () => {
    h.segments.set('seg-a', 'Newsletter', people(0, 899));
    const run = await h.run(await runAgain(h));
    expect(run.status).toBe('awaiting_approval');
    expect(run.hold?.targets).toEqual([
      { segmentId: 'seg-a', target: 'Newsletter', members: 1000, removals: 101, exceeds: true },
    ]);
  });

  it('cancelling a held run ends it, releases the export and sends no removal', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    const runId = await runAgain(h);
    const cancelled = await cancelRun({ ...decisionDeps(h) }, runId, ADMIN);
    expect(cancelled.status).toBe('cancelled');
    await h.drain();
    expect(removalsSent(h)).toBe(0);
    expect((await h.state.exports.get('exp-1'))?.activeRunId).toBeUndefined();
  });

  it('only admins approve or reject', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    const runId = await runAgain(h);
    await expect(decideHeldRemovals(decisionDeps(h), runId, 'approved', CONTRIBUTOR)).rejects.toThrow(
      ForbiddenError,
    );
    expect((await h.run(runId)).status).toBe('awaiting_approval');
  });

  it('the watchdog never ends a held run as stalled, however long it waits', async () => {
    h.segments.set('seg-a', 'Newsletter', []);
    const runId = await runAgain(h);
    h.clock.advance(3 * 24 * 3600_000);
    const summary = await endStalledRuns(h.lifecycle, { stallAfterMs: 30 * 60_000 });
    expect(summary.ended).toEqual([]);
    expect((await h.run(runId)).status).toBe('awaiting_approval');
    // Approval restarts the watchdog's clock: the run is not stalled the moment it moves on.
    await decideHeldRemovals(decisionDeps(h), runId, 'approved', ADMIN);
    expect((await endStalledRuns(h.lifecycle, { stallAfterMs: 30 * 60_000 })).ended).toEqual([]);
  });
});

describe('removal guardrail settings', () => {
  it('switched off, a segment emptied from 1,000 to 0 empties the list', async () => {
    const h = await exported({ removalGuardrail: { enabled: false } });
    h.segments.set('seg-a', 'Newsletter', []);
    const run = await h.run(await runAgain(h));
    expect(run.status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual([]);
  });

  it('a lower threshold holds fewer removals', async () => {
    const h = await exported({ removalGuardrail: { maxFraction: 0.01, minContacts: 10 } });
    h.segments.set('seg-a', 'Newsletter', people(0, 985)); // 15 removals: > 1% and > 10
    const run = await h.run(await runAgain(h));
    expect(run.status).toBe('awaiting_approval');
  });

  it('onLeave "keep" never holds: nothing is removed', async () => {
    const h = await exported({ onLeave: 'keep' });
    h.segments.set('seg-a', 'Newsletter', []);
    const run = await h.run(await runAgain(h));
    expect(run.status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toHaveLength(1000);
  });
});

describe('removal guardrail (field mode)', () => {
  it('holds the flag clears while other updates go out, and approval clears them', async () => {
    const h = await exported({ membership: 'field' });
    h.segments.set('seg-a', 'Newsletter', []);
    h.segments.set('seg-b', 'Customers', people(2000, 2060));
    const runId = await runAgain(h);
    const held = await h.run(runId);
    expect(held.status).toBe('awaiting_approval');
    expect(held.hold?.targets).toEqual([
      { segmentId: 'seg-a', target: 'Segment Newsletter', members: 1000, removals: 1000, exceeds: true },
    ]);
    const flag = (email: string, field: string) => h.destination.contacts.get(email)?.custom[field];
    expect(flag('p5@example.com', 'Segment Newsletter')).toEqual({ type: 'boolean', value: true });
    expect(flag('p2055@example.com', 'Segment Customers')).toEqual({ type: 'boolean', value: true });
    await decideHeldRemovals(decisionDeps(h), runId, 'approved', ADMIN);
    await h.drain();
    expect((await h.run(runId)).status).toBe('succeeded');
    expect(flag('p5@example.com', 'Segment Newsletter')).toEqual({ type: 'boolean', value: false });
  });
});
