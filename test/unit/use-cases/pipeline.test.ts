import { beforeEach, describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const person = (id: number, extra: Record<string, unknown> = {}): SourceProfile => ({
  id: String(id),
  attributes: { email: `p${id}@example.com`, first_name: `P${id}`, ...extra },
});
const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => person(from + i));

/** Three overlapping segments: A = 0..119, B = 100..159, C = 150..169, plus bad and duplicate rows. */
const seed = (h: PipelineHarness): void => {
  h.segments.set('seg-a', 'Newsletter', [
    ...people(0, 120),
    { id: 'bad-1', attributes: { email: 'not-an-email' } },
    { id: 'dup-1', attributes: { email: 'P5@EXAMPLE.com', first_name: 'Dup' } },
  ]);
  h.segments.set('seg-b', 'Customers', people(100, 160));
  h.segments.set('seg-c', 'VIP', people(150, 170));
};

const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();

describe('export pipeline (in-memory ports)', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = new PipelineHarness();
    seed(h);
    await h.addConnection();
    await h.addExport({ segmentIds: ['seg-a', 'seg-b', 'seg-c'] });
  });

  it('a full run lands every valid profile in its segment lists and counts the rest', async () => {
    const started = await h.start();
    expect(started.started).toBe(true);
    await h.drain();
    const run = await h.run(started.run.id);
    expect(run.status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 120));
    expect(h.destination.memberEmails('Customers')).toEqual(emails(100, 160));
    expect(h.destination.memberEmails('VIP')).toEqual(emails(150, 170));
    expect(run.planning).toMatchObject({
      profilesRead: 202,
      distinct: 170,
      invalid: { email_missing_at: 1 },
      merged: 1,
      added: 170,
      joins: [120, 60, 20],
    });
    expect(run.progress).toMatchObject({ accepted: 200, failed: 0, dropped: 0 });
    expect(run.progress.batchesDone).toBe(run.batchesTotal);
    // Lowest profile id wins the merge when no update time is mapped.
    expect(h.destination.contacts.get('p5@example.com')?.fields.FirstName).toBe('P5');
  });

  it('the request estimate after planning equals the requests actually sent', async () => {
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    const sent = h.destination.requests.filter((r) => r.status === 200).length;
    expect(done.estimate?.upperBound).toBe(false);
    // Priced as the worst case while bulk membership is unknown: 200 joins one by one, plus the
    // probe's own bulk upsert and its two membership checks (before and after), plus the list lookup
    // and 3 list creations.
    expect(done.estimate?.requests).toEqual({
      upsertWithList: 200,
      bulkUpsertWithList: 1,
      membershipCheck: 2,
      listLists: 1,
      createList: 3,
    });
    expect(sent).toBe(done.estimate?.totalRequests);
    expect(done.progress.requests).toMatchObject({ listLists: 1, createList: 3 });
  });

  it('a second run after churn sends only the changes', async () => {
    await h.start();
    await h.drain();
    const before = h.destination.requests.length;
    h.segments.set('seg-a', 'Newsletter', [
      ...people(0, 3),
      person(3, { first_name: 'Renamed' }),
      ...people(4, 118), // 118 and 119 leave A (they stay in B)
      person(500), // a new member
    ]);
    const { run } = await h.start();
    await h.drain();
    const second = await h.run(run.id);
    expect(second.status).toBe('succeeded');
    expect(second.planning).toMatchObject({
      added: 1,
      changed: 1,
      left: 0,
      joins: [1, 0, 0],
      leaves: [2, 0, 0],
    });
    const requests = h.destination.requests.slice(before).filter((r) => r.status === 200);
    // listLists 1 + 1 join (new member) + 1 bulk update (edit) + 2 removals (leavers)
    expect(requests.map((r) => r.kind).sort()).toEqual(
      ['bulkUpsert', 'listLists', 'listRemove', 'listRemove', 'upsertWithList'].sort(),
    );
    expect(h.destination.memberEmails('Newsletter')).toEqual([...emails(0, 118), 'p500@example.com'].sort());
    expect(h.destination.contacts.get('p3@example.com')?.fields.FirstName).toBe('Renamed');
  });

  it('a list deleted in Autopilot is recreated on the next run and every member added again', async () => {
    await h.start();
    await h.drain();
    const [deletedId] = [...h.destination.lists].find(([, l]) => l.title === 'Customers') ?? [];
    if (deletedId === undefined) throw new Error('no Customers list');
    h.destination.lists.delete(deletedId);
    const { run } = await h.start();
    await h.drain();
    const second = await h.run(run.id);
    expect(second.status).toBe('succeeded');
    expect(h.destination.memberEmails('Customers')).toEqual(emails(100, 160));
    expect(second.planning).toMatchObject({ unchanged: 170, joins: [0, 60, 0] });
    // The other lists were not touched.
    expect(second.progress.requests).toEqual({ listLists: 1, createList: 1, upsertWithList: 60 });
  });

  it('an unchanged re-run sends nothing but the list lookup', async () => {
    await h.start();
    await h.drain();
    const before = h.destination.requests.length;
    const { run } = await h.start();
    await h.drain();
    expect((await h.run(run.id)).status).toBe('succeeded');
    expect(h.destination.requests.slice(before).map((r) => r.kind)).toEqual(['listLists']);
  });

  it('a redelivered batch is recorded once', async () => {
    const { run } = await h.start();
    const plan = h.planQueue.take();
    for (const m of plan) await planRun(h.planDeps, m, h.remainingMs);
    const first = h.sendQueue.messages[0]?.body;
    if (first === undefined) throw new Error('no batch');
    // SQS delivers the first batch twice (at-least-once), the second copy after the first completed.
    await h.sendQueue.send([first]);
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.accepted).toBe(200);
    expect(done.progress.batchesDone).toBe(done.batchesTotal);
  });

  it('a 429 storm slows the run but loses nothing and never hands a batch back to SQS', async () => {
    h.destination.throttleNext = 40;
    const results: string[] = [];
    const { run } = await h.start();
    await h.drain({ sendResults: results as never });
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.accepted).toBe(200);
    expect(done.progress.throttled).toBe(40);
    expect(results).not.toContain('retry');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 120));
  });

  it('transient server errors beyond the retry budget are redelivered and end with exact counts', async () => {
    const results: string[] = [];
    const { run } = await h.start();
    const plan = h.planQueue.take();
    for (const m of plan) await planRun(h.planDeps, m, h.remainingMs);
    h.destination.failNext = 3; // the first batch's delivery exhausts its 3 attempts
    await h.drain({ sendResults: results as never });
    const done = await h.run(run.id);
    expect(results[0]).toBe('retry');
    expect(done.status).toBe('succeeded');
    expect(done.progress.accepted).toBe(200);
  });

  it('a revoked key fails the run fast, flags the connection and drops the remaining batches', async () => {
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    h.destination.validKeys.clear();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/API key/);
    expect(done.progress.accepted).toBe(0);
    expect(done.progress.dropped).toBe(200);
    expect(done.progress.batchesDone).toBe(done.batchesTotal);
    expect((await h.state.connections.get('conn-1'))?.status).toBe('invalid_key');
    expect(h.notifier.runs.map((r) => r.status)).toEqual(['failed']);
    // Only the first batch tried (once with the cached key, once after re-reading it).
    expect(h.destination.requests.filter((r) => r.status === 401)).toHaveLength(2);
    // The export is free again, and a new run is refused until the key is rotated.
    expect((await h.state.exports.get('exp-1'))?.activeRunId).toBeUndefined();
    await expect(h.start()).rejects.toThrow(/rotate/);
  });

  it('a cancelled run stops sending and ends cancelled', async () => {
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    await h.state.runs.requestCancel(run.id);
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('cancelled');
    expect(done.progress.accepted).toBe(0);
    expect(h.destination.count('upsertWithList')).toBe(0);
  });

  it('a contact the destination rejects is reported, not snapshotted, and retried by the next run', async () => {
    h.destination.rejects.add('p7@example.com');
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('completed_with_errors');
    expect(done.progress.failedByReason).toEqual({ rejected: 1 });
    expect(h.notifier.runs.map((r) => r.status)).toEqual(['completed_with_errors']);
    const samples = await h.state.batches.errorSamples(run.id, 10);
    expect(samples).toEqual([expect.objectContaining({ email: 'p***@example.com', reason: 'rejected' })]);
    h.destination.rejects.clear();
    const again = await h.start();
    await h.drain();
    expect((await h.run(again.run.id)).planning).toMatchObject({ added: 1 });
    expect(h.destination.memberEmails('Newsletter')).toContain('p7@example.com');
  });

  it('a second run while one is active gets a skipped record naming the active run', async () => {
    const first = await h.start();
    const second = await h.start();
    expect(second.started).toBe(false);
    expect(second.run.status).toBe('skipped');
    expect(second.run.reason).toContain(first.run.id);
    expect((await h.run(second.run.id)).status).toBe('skipped');
  });

  it('a malformed message goes to the dead-letter queue with the reason', async () => {
    expect(await sendBatch(h.sendDeps, '{"v":1,"type":"send-batch"}', h.remainingMs)).toBe('done');
    expect(
      await sendBatch(h.sendDeps, '{"v":1,"type":"send-batch","op":"upsert","items":[]}', h.remainingMs),
    ).toBe('done');
    expect(await sendBatch(h.sendDeps, 'not json', h.remainingMs)).toBe('done');
    expect(h.deadLetters.letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/^op: /),
      expect.stringMatching(/runId: .*items: /),
      'body is not JSON',
    ]);
  });
});

describe('bulk-membership probe', () => {
  it.each([
    [true, 'supported'],
    [false, 'unsupported'],
  ] as const)(
    'bulk list membership %s → recorded as %s, every member lands either way',
    async (honour, state) => {
      const h = new PipelineHarness();
      h.destination.bulkListMembership = honour;
      h.segments.set('seg-a', 'Newsletter', people(0, 250));
      await h.addConnection();
      await h.addExport();
      const { run } = await h.start();
      await h.drain();
      expect((await h.run(run.id)).status).toBe('succeeded');
      expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
      expect((await h.state.connections.get('conn-1'))?.bulkMembership.state).toBe(state);
      // The witness is checked before (not on the list) and after the bulk upsert.
      expect(h.destination.count('membershipCheck')).toBe(2);
      if (honour) {
        expect(h.destination.count('bulkUpsertWithList')).toBe(3);
        expect(h.destination.count('upsertWithList')).toBe(0);
      } else {
        // the probe batch (100) is re-added one by one, then every other member too
        expect(h.destination.count('bulkUpsertWithList')).toBe(1);
        expect(h.destination.count('upsertWithList')).toBe(250);
      }
    },
  );

  it('a known-supported connection plans bulk batches, confirms the answer once per run, and estimates exactly', async () => {
    const h = new PipelineHarness();
    h.destination.bulkListMembership = true;
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    await h.addConnection({
      bulkMembership: { state: 'supported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.estimate?.requests).toEqual({
      bulkUpsertWithList: 3,
      membershipCheck: 2,
      listLists: 1,
      createList: 1,
    });
    expect(h.destination.count()).toBe(7);
  });
});

describe('planning', () => {
  it('fails over the cap before sending anything, naming every segment size', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 80));
    h.segments.set('seg-b', 'Customers', people(60, 130));
    await h.addConnection({ cap: 100 });
    await h.addExport({ segmentIds: ['seg-a', 'seg-b'] });
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain('more than 100 distinct contacts');
    expect(done.reason).toContain('"Newsletter" (seg-a): 80 profiles');
    expect(done.reason).toContain('"Customers" (seg-b): 70 profiles');
    expect(h.destination.requests).toEqual([]);
    expect(h.notifier.runs).toHaveLength(1);
  });

  it('truncates at the cap when the export opts in', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 130));
    await h.addConnection();
    await h.addExport({ cap: 100, capPolicy: 'truncate' });
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.planning).toMatchObject({ distinct: 100, overCapProfiles: 30 });
    expect(h.destination.memberEmails('Newsletter')).toHaveLength(100);
  });

  it('a dry run reports what would happen and sends nothing', async () => {
    const h = new PipelineHarness();
    seed(h);
    await h.addConnection();
    await h.addExport({ segmentIds: ['seg-a', 'seg-b', 'seg-c'] });
    const { run } = await h.start('exp-1', 'dry-run');
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.planning).toMatchObject({ added: 170, invalid: { email_missing_at: 1 } });
    expect(done.estimate).toMatchObject({
      upperBound: false,
      requests: { upsertWithList: 200, listLists: 1, createList: 3 },
    });
    expect(h.destination.requests).toEqual([]);
    expect(h.sendQueue.messages).toEqual([]);
    // A dry run takes no lock: a real run can start right away.
    expect((await h.start()).started).toBe(true);
  });

  it('resumes from checkpoints when time runs short, with the same result as one long invocation', async () => {
    const outcome = async (remaining: number) => {
      const h = new PipelineHarness();
      seed(h);
      await h.addConnection({
        bulkMembership: { state: 'supported', checkedAt: new Date(Date.UTC(2025, 0, 1)).toISOString() },
      });
      h.destination.bulkListMembership = true;
      await h.addExport({ segmentIds: ['seg-a', 'seg-b', 'seg-c'] });
      h.remainingMs = () => remaining;
      const { run } = await h.start();
      let planInvocations = 0;
      for (let m = h.planQueue.take(); m.length > 0; m = h.planQueue.take()) {
        for (const message of m) {
          planInvocations++;
          await planRun(h.planDeps, message, h.remainingMs);
        }
      }
      h.remainingMs = () => 15 * 60_000;
      await h.drain();
      const done = await h.run(run.id);
      return {
        planInvocations,
        status: done.status,
        planning: done.planning,
        batches: done.batchesTotal,
        lists: ['Newsletter', 'Customers', 'VIP'].map((t) => h.destination.memberEmails(t)),
      };
    };
    const long = await outcome(15 * 60_000);
    const short = await outcome(999); // below the reserve: checkpoint after every page / chunk
    expect(long.planInvocations).toBe(1);
    expect(short.planInvocations).toBeGreaterThan(3);
    expect({ ...short, planInvocations: 0 }).toEqual({ ...long, planInvocations: 0 });
  });
});

describe('field membership mode', () => {
  it('writes membership flags in bulk: 100 contacts per request', async () => {
    const h = new PipelineHarness();
    seed(h);
    await h.addConnection();
    await h.addExport({ segmentIds: ['seg-a', 'seg-b', 'seg-c'], membership: 'field' });
    const { run } = await h.start();
    await h.drain();
    const done = await h.run(run.id);
    expect(done.status).toBe('succeeded');
    expect(h.destination.count('bulkUpsert')).toBe(2); // 170 contacts
    expect(h.destination.contacts.get('p105@example.com')?.custom).toEqual({
      'Segment Newsletter': { type: 'boolean', value: true },
      'Segment Customers': { type: 'boolean', value: true },
    });
    expect(h.destination.contacts.get('p155@example.com')?.custom).toEqual({
      'Segment Customers': { type: 'boolean', value: true },
      'Segment VIP': { type: 'boolean', value: true },
    });
    h.segments.set('seg-c', 'VIP', people(150, 160)); // 160..169 leave VIP
    const again = await h.start();
    await h.drain();
    expect(h.destination.count('bulkUpsert')).toBe(3);
    expect(h.destination.contacts.get('p165@example.com')?.custom['Segment VIP']).toEqual({
      type: 'boolean',
      value: false,
    });
    expect((await h.run(again.run.id)).planning).toMatchObject({ unchanged: 160, leaves: [0, 0, 10] });
  });
});
