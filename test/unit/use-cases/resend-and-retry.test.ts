import { beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '#lib/domain/access.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { resendContact } from '#lib/use-cases/resend.ts';
import { retryFailed } from '#lib/use-cases/retry-failed.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const ADMIN: Caller = { id: 'admin-1', role: 'admin' };

const person = (n: number): SourceProfile => ({
  id: String(n),
  attributes: { email: `p${n}@example.com`, first_name: `P${n}` },
});
const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => person(from + i));

/** Every contact a request to the fake destination named, in order (list lookups name none). */
const recordEmails = (h: PipelineHarness): string[] => {
  const seen: string[] = [];
  h.destination.beforeRequest = (request) => {
    seen.push(...request.emails.map((e) => e.toLowerCase()));
  };
  return seen;
};

describe('re-send and retry-failed touch exactly the contacts they name', () => {
  let h: PipelineHarness;
  const deps = () => ({ ...h.startDeps, audit: h.state.audit, batches: h.state.batches });

  beforeEach(async () => {
    h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    h.segments.set('seg-b', 'Customers', people(5, 10));
    await h.addConnection();
    await h.addExport({ segmentIds: ['seg-a', 'seg-b'] });
    const first = await h.start();
    await h.drain();
    expect((await h.run(first.run.id)).status).toBe('succeeded');
  });

  it('a re-send sends one contact’s current data and joins every list it is in, though the snapshot says unchanged', async () => {
    // Someone edited the contact and took it off both lists in Autopilot: the snapshot does not know.
    const edited = h.destination.contacts.get('p7@example.com');
    if (edited === undefined) throw new Error('p7 was not exported');
    edited.fields = { FirstName: 'Edited by hand' };
    for (const list of h.destination.lists.values()) list.members.delete('p7@example.com');
    const seen = recordEmails(h);

    const result = await resendContact(deps(), 'exp-1', 'P7@Example.com', ADMIN);
    expect(result.started).toBe(true);
    await h.drain();

    const run = await h.run(result.run.id);
    expect(run.status).toBe('succeeded');
    expect(run.contacts).toEqual({ kind: 'resend', emails: ['p7@example.com'] });
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['p7@example.com']));
    expect(h.destination.contacts.get('p7@example.com')?.fields.FirstName).toBe('P7');
    expect(h.destination.memberEmails('Newsletter')).toContain('p7@example.com');
    expect(h.destination.memberEmails('Customers')).toContain('p7@example.com');
    expect(run.planning).toMatchObject({ distinct: 1, changed: 1, unchanged: 0, joins: [1, 1] });
  });

  it('a re-send removes a contact from a list the product added it to once it left that segment, and nothing else', async () => {
    // p8 and p9 left Customers; only p8 is named, so p9 stays on the list until a full run.
    h.segments.set('seg-b', 'Customers', people(5, 8));
    const seen = recordEmails(h);

    const result = await resendContact(deps(), 'exp-1', 'p8@example.com', ADMIN);
    await h.drain();

    expect((await h.run(result.run.id)).status).toBe('succeeded');
    expect(new Set(seen)).toEqual(new Set(['p8@example.com']));
    expect(h.destination.memberEmails('Customers')).not.toContain('p8@example.com');
    expect(h.destination.memberEmails('Customers')).toContain('p9@example.com');
    expect(h.destination.memberEmails('Newsletter')).toContain('p8@example.com');
  });

  it('a re-send leaves an unsubscribed contact unsubscribed', async () => {
    const contact = h.destination.contacts.get('p2@example.com');
    if (contact === undefined) throw new Error('p2 was not exported');
    contact.unsubscribed = true;
    const result = await resendContact(deps(), 'exp-1', 'p2@example.com', ADMIN);
    await h.drain();
    expect((await h.run(result.run.id)).status).toBe('succeeded');
    expect(h.destination.contacts.get('p2@example.com')?.unsubscribed).toBe(true);
  });

  it('a named contact that no segment holds is skipped as not_in_segments and nothing is sent', async () => {
    const seen = recordEmails(h);
    const result = await resendContact(deps(), 'exp-1', 'stranger@example.com', ADMIN);
    await h.drain();
    const run = await h.run(result.run.id);
    expect(run.status).toBe('succeeded');
    expect(run.planning?.invalid).toEqual({ not_in_segments: 1 });
    expect(run.planning?.profilesRead).toBe(0);
    expect(seen).toEqual([]);
    expect(run.batchesTotal).toBe(0);
  });

  it('a re-send while a run is active is refused, as a run is, and recorded as skipped', async () => {
    const active = await h.start();
    const result = await resendContact(deps(), 'exp-1', 'p1@example.com', ADMIN);
    expect(result.started).toBe(false);
    expect(result.run.status).toBe('skipped');
    expect(result.run.reason).toContain(active.run.id);
  });

  it('an email that is not one is refused, naming the field, before any run is recorded', async () => {
    await expect(resendContact(deps(), 'exp-1', 'not-an-email', ADMIN)).rejects.toMatchObject({
      name: 'ValidationError',
      issues: [{ path: 'path.email', reason: expect.stringContaining('not an email') }],
    });
    await expect(resendContact(deps(), 'exp-1', `${'a'.repeat(300)}@x.com`, ADMIN)).rejects.toMatchObject({
      issues: [{ path: 'path.email', reason: expect.stringContaining('longer than 254') }],
    });
    expect((await h.state.runs.list('exp-1', 10)).runs).toHaveLength(1);
  });

  it('retry-failed sends again exactly the contacts that failed permanently in a run', async () => {
    h.segments.set('seg-a', 'Newsletter', people(0, 20));
    for (const n of [11, 14, 17]) h.destination.rejects.add(`p${n}@example.com`);
    const failing = await h.start();
    await h.drain();
    const failed = await h.run(failing.run.id);
    expect(failed.status).toBe('completed_with_errors');
    expect(failed.progress.failed).toBe(3);

    h.destination.rejects.clear();
    const seen = recordEmails(h);
    const retry = await retryFailed(deps(), failing.run.id, ADMIN);
    expect(retry.started).toBe(true);
    await h.drain();

    const run = await h.run(retry.run.id);
    expect(run.status).toBe('succeeded');
    expect(run.retryOf).toBe(failing.run.id);
    expect(run.contacts?.kind).toBe('retry');
    const { entries } = await h.state.audit.list({ resourceType: 'export', resourceId: 'exp-1', limit: 1 });
    expect(entries[0]).toMatchObject({ runId: run.id, detail: { retryOf: failing.run.id, contacts: 3 } });
    expect(new Set(seen)).toEqual(new Set(['p11@example.com', 'p14@example.com', 'p17@example.com']));
    expect(h.destination.memberEmails('Newsletter')).toEqual(
      expect.arrayContaining(['p11@example.com', 'p14@example.com', 'p17@example.com']),
    );
    // What the retry accepted is in the snapshot: the next full run has nothing left to send.
    const next = await h.start();
    await h.drain();
    expect((await h.run(next.run.id)).planning).toMatchObject({ added: 0, changed: 0, left: 0 });
  });

  it('retry-failed is refused while the run is still going and when nothing failed, and 404 for no run', async () => {
    const done = (await h.state.runs.list('exp-1', 1)).runs[0];
    if (done === undefined) throw new Error('no run');
    await expect(retryFailed(deps(), done.id, ADMIN)).rejects.toMatchObject({
      name: 'ConflictError',
      details: { code: 'nothing_failed' },
    });
    const active = await h.start();
    await expect(retryFailed(deps(), active.run.id, ADMIN)).rejects.toMatchObject({
      name: 'ConflictError',
      details: { code: 'run_not_ended' },
    });
    await expect(retryFailed(deps(), 'run-missing', ADMIN)).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('the audit entry of a re-send names the contact only masked', async () => {
    const result = await resendContact(deps(), 'exp-1', 'p3@example.com', ADMIN);
    const { entries } = await h.state.audit.list({ resourceType: 'export', resourceId: 'exp-1', limit: 10 });
    expect(entries[0]).toMatchObject({
      action: 'run.requested',
      runId: result.run.id,
      detail: { resendOf: 'p***@example.com', contacts: 1 },
    });
    expect(JSON.stringify(entries)).not.toContain('p3@example.com');
  });
});
