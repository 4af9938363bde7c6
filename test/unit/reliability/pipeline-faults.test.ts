import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { deleteExport } from '#lib/use-cases/delete-export.ts';
import { cancelRun } from '#lib/use-cases/manage-runs.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { DEFAULT_WATCH } from '#lib/use-cases/sending/watch.ts';
import { readAll } from '#test/support/contracts/helpers.ts';
import { PipelineHarness, plannerSettings } from '#test/support/pipeline-harness.ts';

const person = (id: number, extra: Record<string, unknown> = {}): SourceProfile => ({
  id: String(id).padStart(6, '0'),
  attributes: { email: `p${id}@example.com`, first_name: `P${id}`, ...extra },
});
const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => person(from + i));
const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();
const admin = { id: 'admin', role: 'admin' } as const;

const snapshotKeys = async (h: PipelineHarness, exportId = 'exp-1'): Promise<string[]> => {
  return (await readAll(h.state, exportId)).map((e) => e.key);
};

const flagged = (h: PipelineHarness, field: string): string[] =>
  [...h.destination.contacts]
    .filter(([, c]) => c.custom[field]?.value === true)
    .map(([k]) => k)
    .sort();

describe('planning is decided once per run', () => {
  it('a plan message re-delivered after some batches were sent neither drops contacts nor overcounts batches', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 6_000));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    h.sendQueue.failSends.add(2); // the second SendMessageBatch chunk fails once
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.batchesTotal).toBe(60);
    expect(done.progress.batchesDone).toBe(60);
    expect(done.progress.accepted).toBe(6_000);
    expect(flagged(h, 'Segment Newsletter')).toHaveLength(6_000);
  });

  it('a plan message delivered twice plans once', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 300));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    const [message] = h.planQueue.take();
    if (message === undefined) throw new Error('no plan message');
    await planRun(h.planDeps, message, h.remainingMs);
    // The batches go out and are sent before SQS hands the same plan message over again.
    await h.drain();
    await planRun(h.planDeps, message, h.remainingMs);
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.batchesTotal).toBe(3);
    expect(done.progress).toMatchObject({ batchesDone: 3, accepted: 300 });
  });

  it('a resume message whose checkpoint has expired fails the run with a clear reason', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 300));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    h.remainingMs = () => 500; // below the reserve: the planner checkpoints after the first page
    const { run } = await h.start();
    const [first] = h.planQueue.take();
    if (first === undefined) throw new Error('no plan message');
    await planRun(h.planDeps, first, h.remainingMs);
    expect(h.planQueue.messages.map((m) => m.body.resume)).toEqual([true]);
    await h.state.checkpoints.delete(run.id); // DynamoDB's TTL removed it while the message waited in the DLQ
    h.remainingMs = () => 15 * 60_000;
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/planning state.*expired/i);
    expect(h.destination.requests).toEqual([]);
  });
});

describe('a permanent rejection is an outcome, not an endless retry', () => {
  it('a permanently rejected batch is counted as failed and the run completes with errors', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 150));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    h.destination.poison.add('p0@example.com'); // the whole first bulk request answers 400
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(h.exhausted).toEqual([]);
    expect(done.status).toBe('completed_with_errors');
    expect(done.progress).toMatchObject({ batchesDone: 2, accepted: 50, failed: 100 });
    expect(Object.keys(done.progress.failedByReason)).toEqual([expect.stringMatching(/rejected|400/)]);
    expect((await h.state.exports.get('exp-1'))?.activeRunId).toBeUndefined();
    // The next run sends the rejected contacts again.
    h.destination.poison.clear();
    const again = await h.start();
    await h.drain();
    expect((await h.run(again.run.id)).planning).toMatchObject({ added: 100 });
    expect(flagged(h, 'Segment Newsletter')).toHaveLength(150);
  });

  it('a batch that keeps failing transiently ends as failed contacts on its last receive, not in the DLQ', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 150));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    h.destination.fault = (r) =>
      r.emails.includes('p0@example.com') ? { kind: 'transient', status: 503 } : undefined;
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(h.exhausted).toEqual([]);
    expect(done.status).toBe('completed_with_errors');
    expect(done.progress).toMatchObject({ batchesDone: 2, accepted: 50, failed: 100 });
  });
});

describe('contacts that cannot fit a message', () => {
  it('one oversized multibyte contact is skipped as too_large and the rest are sent', async () => {
    const h = new PipelineHarness();
    const huge = '漢'.repeat(10_000);
    const custom = Array.from({ length: 19 }, (_, i) => ({
      name: `Note ${i}`,
      type: 'string',
      source: `n${i}`,
    }));
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 19; i++) big[`n${i}`] = huge;
    h.segments.set('seg-a', 'Newsletter', [...people(0, 20), person(20, big)]);
    await h.addConnection();
    await h.addExport({
      membership: 'field',
      dataMatching: { email: 'email', fields: {}, custom } as never,
    });
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.planning?.invalid).toMatchObject({ too_large: 1 });
    expect(flagged(h, 'Segment Newsletter')).toEqual(emails(0, 20));
  });
});

describe('a sender never waits past its remaining time', () => {
  const setUp = async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 50));
    await h.addConnection();
    await h.addExport({ membership: 'field' });
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    return { h, runId: run.id };
  };

  it('a rate slot later than the remaining time hands the batch back instead of sleeping', async () => {
    const { h, runId } = await setUp();
    await h.rateBudget.backOff('conn-1', 10 * 60_000); // other senders hold the budget for 10 minutes
    const [batch] = h.sendQueue.take();
    const started = h.clock.now();
    const remaining = 20_000;
    const result = await sendBatch(
      h.sendDeps,
      JSON.stringify(batch),
      () => remaining - (h.clock.now() - started),
    );
    expect(h.clock.now() - started).toBeLessThanOrEqual(remaining);
    expect(result).toBe('done');
    expect(h.sendQueue.messages).toHaveLength(1); // handed back, delayed
    h.remainingMs = () => 15 * 60_000;
    await h.drain();
    expect((await h.run(runId)).progress.accepted).toBe(50);
  });

  it('an enormous Retry-After is capped and never outlasts the invocation', async () => {
    const { h } = await setUp();
    h.destination.throttleNext = 1;
    h.destination.retryAfterMs = 10 * 3600_000;
    const [batch] = h.sendQueue.take();
    const started = h.clock.now();
    const remaining = 30_000;
    await sendBatch(h.sendDeps, JSON.stringify(batch), () => remaining - (h.clock.now() - started));
    expect(h.clock.now() - started).toBeLessThanOrEqual(remaining);
  });
});

describe('progress inside a batch survives its failure', () => {
  it('one request failing past its retries does not make the batch send its earlier requests again', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 25));
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    let failures = 0;
    const sent = new Map<string, number>();
    h.destination.fault = (r) => {
      if (r.kind === 'upsertWithList') for (const e of r.emails) sent.set(e, (sent.get(e) ?? 0) + 1);
      return r.kind === 'upsertWithList' && r.emails[0] === 'p7@example.com' && failures++ < 3
        ? { kind: 'transient', status: 503 }
        : undefined;
    };
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 25));
    // The contacts before the failing one are sent once; the failing one 3 times in vain, then
    // once more. Requests in flight beside it answered after the gap and were discarded: those
    // contacts may be sent twice (idempotent at the destination), never more.
    for (const e of emails(0, 7)) expect(sent.get(e)).toBe(1);
    expect(sent.get('p7@example.com')).toBe(4);
    for (const e of emails(8, 25)) expect(sent.get(e)).toBeLessThanOrEqual(2);
    expect(done.progress.accepted).toBe(25);
  });
});

describe('the bulk-membership probe', () => {
  it('a witness already on the list cannot make the probe answer "supported"', async () => {
    const h = new PipelineHarness();
    h.destination.bulkListMembership = false;
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection();
    await h.addExport();
    // The list already holds the first member (an earlier export filled it).
    h.destination.lists.set('contactlist_pre', { title: 'Newsletter', members: new Set(['p0@example.com']) });
    await h.state.lists.save('conn-1', 'Newsletter', 'contactlist_pre');
    const { run } = await h.start();
    await h.drain();
    expect((await h.run(run.id)).status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
    expect((await h.state.connections.get('conn-1'))?.bulkMembership.state).toBe('unsupported');
  });

  it('an observation contradicting "supported" flips the answer and re-sends what was sent on it', async () => {
    const h = new PipelineHarness();
    h.destination.bulkListMembership = false; // Autopilot stopped honouring it since the last probe
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection({
      bulkMembership: { state: 'supported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
    expect(done.progress.accepted).toBe(250);
    expect((await h.state.connections.get('conn-1'))?.bulkMembership.state).toBe('unsupported');
  });
});

describe('cancel and removal stop a batch being sent', () => {
  // One batch of 100 one-by-one requests at 5/s (20 s), so that the watch's interval (DEFAULT_WATCH:
  // 25 requests or 5 s) falls inside it.
  const setUp = async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 100));
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    const planDeps = { ...h.planDeps, settings: { ...plannerSettings, perContactBatchSize: 100 } };
    for (const m of h.planQueue.take()) await planRun(planDeps, m, h.remainingMs);
    return { h, runId: run.id };
  };

  it('a cancel stops the batch within the watch interval and the run counts exactly what was sent', async () => {
    const { h, runId } = await setUp();
    h.destination.beforeRequest = async (r) => {
      if (r.kind === 'upsertWithList' && r.emails[0] === 'p10@example.com') {
        await cancelRun(h.lifecycle, runId, admin);
      }
    };
    await h.drain();
    const done = await h.run(runId);
    const members = h.destination.memberEmails('Newsletter');
    expect(done.status).toBe('cancelled');
    // p0…p10 went out before the cancel; the watch sees it by the interval's 25th request.
    expect(members.length).toBeGreaterThanOrEqual(11);
    expect(members.length).toBeLessThan(DEFAULT_WATCH.everyRequests);
    expect(done.progress.accepted).toBe(members.length);
    expect(done.progress.accepted + done.progress.dropped).toBe(100);
  });

  it("a removed connection's key goes out no more than the watch interval allows", async () => {
    const { h, runId } = await setUp();
    let removedAt: number | undefined;
    h.destination.beforeRequest = async (r) => {
      if (removedAt === undefined && r.kind === 'upsertWithList' && r.emails[0] === 'p10@example.com') {
        removedAt = h.destination.keysUsed.length;
        await h.state.connections.delete('conn-1');
        await h.secrets.deleteApiKey('conn-1');
      }
    };
    await h.drain();
    expect((await h.run(runId)).status).toBe('cancelled');
    expect(h.destination.keysUsed.length - (removedAt ?? 0)).toBeLessThan(DEFAULT_WATCH.everyRequests);
  });

  it('deleting an export right after a cancel leaves none of its snapshot behind', async () => {
    const { h, runId } = await setUp();
    h.destination.beforeRequest = async (r) => {
      if (r.kind === 'upsertWithList' && r.emails[0] === 'p10@example.com') {
        await cancelRun(h.lifecycle, runId, admin);
        await deleteExport({ ...h.lifecycle, newId: () => 'x' } as never, 'exp-1', admin);
      }
    };
    await h.drain();
    expect(await snapshotKeys(h)).toEqual([]);
  });
});

describe('creating a list whose answer was lost', () => {
  it.each([
    ['a 503 after the list was made', { kind: 'transient', status: 503, after: true } as const],
    ['a garbled 2xx after the list was made', { kind: 'permanent', status: 200, after: true } as const],
  ])('%s leaves one list, never a second one with the same title', async (_, fault) => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 5));
    await h.addConnection();
    await h.addExport();
    let struck = false;
    h.destination.fault = (r) => {
      if (r.kind !== 'createList' || struck) return undefined;
      struck = true;
      return fault;
    };
    const { run } = await h.start();
    await h.drain();
    expect((await h.run(run.id)).status).toBe('succeeded');
    expect([...h.destination.lists.values()].map((l) => l.title)).toEqual(['Newsletter']);
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 5));
  });
});

describe('a write that took effect but was never confirmed', () => {
  it('is asserted again by the next run: a contact that then left the segment comes off the list', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 5));
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    // p3's join always goes through, and its answer is always lost: its batch gives up on it.
    h.destination.fault = (r) =>
      r.kind === 'upsertWithList' && r.emails[0] === 'p3@example.com'
        ? { kind: 'transient', after: true }
        : undefined;
    const first = await h.start();
    await h.drain();
    // On the message's last delivery the batch gives up on p3 and on p4 after it (the next run retries both).
    expect((await h.run(first.run.id)).progress.failedByReason).toEqual({ retries_exhausted: 2 });
    expect(h.destination.memberEmails('Newsletter')).toContain('p3@example.com');

    h.destination.fault = undefined;
    h.segments.set('seg-a', 'Newsletter', people(0, 3)); // p3 and p4 leave
    const second = await h.start();
    await h.drain();
    expect((await h.run(second.run.id)).status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 3));
  });
});

describe('a batch delivered to two senders at once', () => {
  it('is sent once: the second delivery waits for the first', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [batch] = h.sendQueue.take();
    const body = JSON.stringify(batch);
    await Promise.all([
      sendBatch(h.sendDeps, body, h.remainingMs),
      sendBatch(h.sendDeps, body, h.remainingMs),
    ]);
    await h.drain();
    expect((await h.run(run.id)).status).toBe('succeeded');
    expect(h.destination.requests.filter((r) => r.kind === 'upsertWithList')).toHaveLength(10);
  });
});
