import { describe, expect, it } from 'vitest';
import { API_KEY, ApiHarness, type Token, validConnection } from '#test/support/api-harness.ts';

/** A connection created, renamed three times (a minute apart) and its key rotated, through the API. */
const history = async () => {
  const h = new ApiHarness();
  const created = await h.call('POST', '/connections', { body: validConnection() });
  expect(created.status, created.text).toBe(201);
  const id: string = created.body.id;
  for (let n = 1; n <= 3; n++) {
    h.clock.advance(60_000);
    const renamed = await h.call('PATCH', `/connections/${id}`, {
      body: { version: n, displayName: `Name ${n}` },
    });
    expect(renamed.status, renamed.text).toBe(200);
  }
  h.clock.advance(60_000);
  expect((await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: API_KEY } })).status).toBe(
    200,
  );
  return { h, id };
};

describe('GET /audit', () => {
  it('answers a connection’s entries newest first, each with who and which fields', async () => {
    const { h, id } = await history();
    const reply = await h.call('GET', `/audit?resource=connection/${id}`);

    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'connection.key_rotated',
      'connection.updated',
      'connection.updated',
      'connection.updated',
      'connection.created',
    ]);
    expect(reply.body.entries[1]).toMatchObject({
      actor: { id: 'dev-admin', role: 'admin' },
      resource: { type: 'connection', id },
      changes: [{ field: 'displayName', from: 'Name 2', to: 'Name 3' }],
    });
    expect(reply.body.next).toBeUndefined();
    expect(reply.text).not.toContain(API_KEY);
  });

  it('pages with limit and the cursor it answers, every entry once', async () => {
    const { h, id } = await history();
    const pages: string[][] = [];
    let url = `/audit?resource=connection/${id}&limit=2`;
    for (;;) {
      const reply = await h.call('GET', url);
      expect(reply.status, reply.text).toBe(200);
      pages.push(reply.body.entries.map((e: { at: string }) => e.at));
      if (reply.body.next === undefined) break;
      url = `/audit?resource=connection/${id}&limit=2&cursor=${reply.body.next}`;
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const all = pages.flat();
    expect(all).toEqual([...all].sort().reverse());
    expect(new Set(all).size).toBe(5);
  });

  it('a removed connection’s trail stays readable, its removal on top', async () => {
    const { h, id } = await history();
    expect((await h.call('DELETE', `/connections/${id}`)).status).toBe(200);
    const reply = await h.call('GET', `/audit?resource=connection/${id}&limit=1`);
    expect(reply.body.entries[0]).toMatchObject({ action: 'connection.removed' });
    expect(reply.body.next).toBeDefined();
  });

  it('an export’s trail holds its runs, filed with their run id', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addConnection({ id: 'conn-1' });
    await h.addExport({ connectionId: 'conn-1' }, 'exp-1');
    const started = await h.call('POST', '/exports/exp-1/runs?dryRun=true');
    expect(started.status, started.text).toBe(202);

    const reply = await h.call('GET', '/audit?resource=export/exp-1');
    expect(reply.body.entries).toEqual([
      expect.objectContaining({ action: 'run.requested', runId: started.body.runId }),
    ]);
  });

  it.each<Token>(['dev-contributor', 'dev-viewer'])('is for admins only: %s gets 403', async (token) => {
    const { h, id } = await history();
    const reply = await h.call('GET', `/audit?resource=connection/${id}`, { token });
    expect(reply.status).toBe(403);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.body.detail).toBe('Only admins read the audit trail.');
    expect(reply.text).not.toContain(id);
  });

  it('without a token it is 401', async () => {
    const h = new ApiHarness();
    expect((await h.call('GET', '/audit?resource=export/x', { token: 'none' })).status).toBe(401);
  });

  it.each([
    ['no resource', '/audit', 'query.resource', /required: connection\/<id> or export\/<id>/],
    ['a run', '/audit?resource=run/run-1', 'query.resource', /must be connection\/<id> or export\/<id>/],
    ['no type', '/audit?resource=exp-1', 'query.resource', /must be connection\/<id> or export\/<id>/],
    ['an empty id', '/audit?resource=export/', 'query.resource', /must not be empty/],
    ['a control character', '/audit?resource=export/a%0Ab', 'query.resource', /control characters/],
    ['an over-long resource', `/audit?resource=export/${'x'.repeat(5_000)}`, 'query.resource', /at most/],
    ['a forged cursor', '/audit?resource=export/e&cursor=bm8taGFzaA', 'query.cursor', /not a cursor/],
    [
      'an over-long cursor',
      `/audit?resource=export/e&cursor=${'A'.repeat(5_000)}`,
      'query.cursor',
      /not a cursor/,
    ],
    ['a zero limit', '/audit?resource=export/e&limit=0', 'query.limit', /1/],
  ])('%s is a 400 naming the field and why', async (_name, url, path, reason) => {
    const h = new ApiHarness();
    const reply = await h.call('GET', url);
    expect(reply.status, reply.text).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.body.errors).toEqual([
      expect.objectContaining({ path, reason: expect.stringMatching(reason) }),
    ]);
  });
});
