import { beforeEach, describe, expect, it } from 'vitest';
import { ApiHarness } from '#test/support/api-harness.ts';

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i), attributes: { email: `p${i}@example.com` } }));

describe('POST /exports/{id}/contacts/{email}/resend and POST /runs/{id}/retry-failed', () => {
  let h: ApiHarness;
  let firstRunId: string;
  beforeEach(async () => {
    h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(6));
    await h.addConnection({ sharing: 'admins+contributors' });
    await h.addExport();
    h.destination.rejects.add('p2@example.com');
    firstRunId = (await h.start()).run.id;
    await h.drain();
    h.destination.rejects.clear();
  });

  it('a re-send answers 202 with the run, which counts the contact but never shows its address', async () => {
    const reply = await h.call('POST', '/exports/exp-1/contacts/P4%40example.com/resend', {
      token: 'dev-contributor',
    });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({
      exportId: 'exp-1',
      status: 'planning',
      namedContacts: { kind: 'resend', count: 1 },
    });
    expect(reply.text.toLowerCase()).not.toContain('p4@example.com');
    await h.drain();
    const run = await h.call('GET', `/runs/${reply.body.id}`);
    expect(run.body.status).toBe('succeeded');
    expect(run.text.toLowerCase()).not.toContain('p4@example.com');
    expect(h.logger.lines.join('\n')).not.toMatch(/p4@example\.com/i);
  });

  it('a re-send is refused to a viewer (403), for an unknown export (404), a bad email (400) and while a run is active (409)', async () => {
    const url = '/exports/exp-1/contacts/p4%40example.com/resend';
    expect((await h.call('POST', url, { token: 'dev-viewer' })).status).toBe(403);
    expect((await h.call('POST', '/exports/nope/contacts/p4%40example.com/resend')).status).toBe(404);
    const bad = await h.call('POST', '/exports/exp-1/contacts/not-an-email/resend');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { path: 'path.email', reason: expect.stringContaining('not an email') },
    ]);
    const active = await h.start();
    const busy = await h.call('POST', url);
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain(active.run.id);
  });

  it('retry-failed answers 202 with a run that records retryOf, and 409 once nothing failed', async () => {
    const reply = await h.call('POST', `/runs/${firstRunId}/retry-failed`, { token: 'dev-contributor' });
    expect(reply.status).toBe(202);
    expect(reply.body.namedContacts).toEqual({ kind: 'retry', count: 1, retryOf: firstRunId });
    await h.drain();
    expect((await h.run(reply.body.id)).status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toContain('p2@example.com');

    const nothing = await h.call('POST', `/runs/${reply.body.id}/retry-failed`);
    expect(nothing.status).toBe(409);
    expect(nothing.body.detail).toContain('nothing to retry');
    expect((await h.call('POST', '/runs/nope/retry-failed')).status).toBe(404);
    expect((await h.call('POST', `/runs/${firstRunId}/retry-failed`, { token: 'dev-viewer' })).status).toBe(
      403,
    );
  });
});
