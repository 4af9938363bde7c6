import { describe, expect, it } from 'vitest';
import { API_KEY, ApiHarness, editable, validConnection } from '#test/support/api-harness.ts';

const setup = async () => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  h.segments.set('seg-b', 'Customers', [{ id: '2', attributes: { email: 'b@example.com' } }]);
  await h.addConnection();
  await h.addExport();
  return h;
};

const validExport = {
  name: 'Export',
  connectionId: 'conn-1',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
};

/** The problem response names each bad field with a reason. */
const fieldErrors = (body: { errors?: Array<{ path: string; reason: string }> }) =>
  Object.fromEntries((body.errors ?? []).map((e) => [e.path, e.reason]));

describe('connection validation', () => {
  it.each([
    ['consent missing', { consent: undefined }, 'consent'],
    ['consent not accepted', { consent: { accepted: false, noticeVersion: '2026-11' } }, 'consent.accepted'],
    [
      'an old privacy notice',
      { consent: { accepted: true, noticeVersion: '2020-01' } },
      'consent.noticeVersion',
    ],
    ['no key', { apiKey: undefined }, 'apiKey'],
    ['a key with spaces', { apiKey: 'abc def ghi jkl' }, 'apiKey'],
    ['an empty name', { displayName: '  ' }, 'displayName'],
    ['a negative cap', { cap: -1 }, 'cap'],
    ['a rate above 1000/s', { ratePerSecond: 5000 }, 'ratePerSecond'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['an unknown sharing', { sharing: 'everyone' }, 'sharing'],
  ])('refuses %s, naming the field', async (_name, change, path) => {
    const h = await setup();
    const reply = await h.call('POST', '/connections', { body: { ...validConnection(), ...change } });
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(Object.keys(fieldErrors(reply.body))).toContain(path);
  });

  it('refuses a key Autopilot rejects, saying so, and stores nothing', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/connections', {
      body: validConnection({ apiKey: 'not-a-valid-key-123' }),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(/Autopilot rejected this API key/);
    expect(fieldErrors(reply.body)).toEqual({ apiKey: 'rejected by Autopilot' });
    expect(await h.state.connections.list()).toHaveLength(1);
  });

  it('answers 503 when Autopilot cannot be reached to verify a key', async () => {
    const h = await setup();
    h.destination.failNext = 1;
    expect((await h.call('POST', '/connections', { body: validConnection() })).status).toBe(503);
  });

  it('records who consented and when, and keeps the key out of the record', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/connections', { body: validConnection() });
    expect(reply.status).toBe(201);
    expect(reply.body.consent).toEqual({
      acceptedBy: 'dev-admin',
      acceptedAt: expect.any(String),
      noticeVersion: '2026-11',
    });
    expect(reply.body.ratePerSecond).toBe(5);
    expect(await h.secrets.getApiKey(reply.body.id)).toBe(API_KEY);
  });

  it('refuses an update from a stale version with 409', async () => {
    const h = await setup();
    expect(
      (await h.call('PATCH', '/connections/conn-1', { body: { version: 1, displayName: 'A' } })).status,
    ).toBe(200);
    const stale = await h.call('PATCH', '/connections/conn-1', { body: { version: 1, displayName: 'B' } });
    expect(stale.status).toBe(409);
    expect(stale.body.currentVersion).toBe(2);
    expect((await h.call('PATCH', '/connections/conn-1', { body: { displayName: 'B' } })).status).toBe(400);
  });

  it('refuses to remove a connection in use, listing the exports that use it', async () => {
    const h = await setup();
    const reply = await h.call('DELETE', '/connections/conn-1');
    expect(reply.status).toBe(409);
    expect(reply.body.exports).toEqual([{ id: 'exp-1', name: 'Newsletter' }]);
    expect((await h.call('DELETE', '/connections/conn-1?detach=maybe')).status).toBe(400);
  });

  it('rotating the key clears a rejected-key flag', async () => {
    const h = await setup();
    await h.state.connections.setStatus('conn-1', 'invalid_key');
    const bad = await h.call('POST', '/connections/conn-1/rotate-key', {
      body: { apiKey: 'still-not-valid-999' },
    });
    expect(bad.status).toBe(400);
    const good = await h.call('POST', '/connections/conn-1/rotate-key', { body: { apiKey: API_KEY } });
    expect(good.status).toBe(200);
    expect(good.body.status).toBe('active');
  });
});

describe('export validation', () => {
  it.each([
    ['no email mapping', { dataMatching: {} }, 'dataMatching.email'],
    [
      'an unknown standard field',
      { dataMatching: { email: 'e', fields: { Nick: 'n' } } },
      'dataMatching.fields.Nick',
    ],
    [
      'an untyped custom field',
      { dataMatching: { email: 'e', custom: [{ name: 'Plan', source: 'p' }] } },
      'dataMatching.custom.0.type',
    ],
    ['no segments', { segmentIds: [] }, 'segmentIds'],
    ['a duplicate segment', { segmentIds: ['seg-a', 'seg-a'] }, 'segmentIds.1'],
    ['a segment that does not exist', { segmentIds: ['seg-a', 'nope'] }, 'segmentIds.1'],
    ['a connection that does not exist', { connectionId: 'conn-x' }, 'connectionId'],
    ['an unknown membership mode', { membership: 'tags' }, 'membership'],
    ['an unknown top-level field', { colour: 'red' }, 'colour'],
    ['a list title for an unselected segment', { listTitles: { 'seg-b': 'B' } }, 'listTitles.seg-b'],
    ['a cap of zero', { cap: 0 }, 'cap'],
  ])('refuses %s, naming the field', async (_name, change, path) => {
    const h = await setup();
    const reply = await h.call('POST', '/exports', { body: { ...validExport, ...change } });
    expect(reply.status, reply.text).toBe(400);
    expect(Object.keys(fieldErrors(reply.body))).toContain(path);
  });

  it('refuses an edit from a stale version with 409 and keeps the export as it was', async () => {
    const h = await setup();
    const current = (await h.call('GET', '/exports/exp-1')).body;
    const ok = await h.call('PUT', '/exports/exp-1', {
      body: { ...editable(current), name: 'One', version: current.version },
    });
    expect(ok.status).toBe(200);
    const stale = await h.call('PUT', '/exports/exp-1', {
      body: { ...editable(current), name: 'Two', version: current.version },
    });
    expect(stale.status).toBe(409);
    expect((await h.call('GET', '/exports/exp-1')).body.name).toBe('One');
  });

  it('saving never runs', async () => {
    const h = await setup();
    await h.call('POST', '/exports', { body: { ...validExport, scheduled: true } });
    expect(h.planQueue.messages).toEqual([]);
  });

  it('refuses to delete an export with a run in progress', async () => {
    const h = await setup();
    const { run } = await h.start();
    const reply = await h.call('DELETE', '/exports/exp-1');
    expect(reply.status).toBe(409);
    expect(reply.body.runId).toBe(run.id);
  });

  it('schedule needs a boolean', async () => {
    const h = await setup();
    const reply = await h.call('PUT', '/exports/exp-1/schedule', { body: { scheduled: 'yes' } });
    expect(fieldErrors(reply.body)).toHaveProperty('scheduled');
  });
});

describe('requests in general', () => {
  it('bad JSON → 400, not JSON → 415, too large → 413', async () => {
    const h = await setup();
    expect((await h.call('POST', '/exports', { raw: '{"name":' })).status).toBe(400);
    expect(
      (await h.call('POST', '/exports', { raw: 'name=x', contentType: 'application/x-www-form-urlencoded' }))
        .status,
    ).toBe(415);
    const big = JSON.stringify({ ...validExport, name: 'x'.repeat(70 * 1024) });
    expect((await h.call('POST', '/exports', { raw: big })).status).toBe(413);
  });

  it('an unknown route is 404 and a wrong method 405 with the allowed ones', async () => {
    const h = await setup();
    expect((await h.call('GET', '/nothing-here')).status).toBe(404);
    const wrong = await h.call('PATCH', '/exports/exp-1', { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, PUT, DELETE');
  });

  it('query parameters are validated with their names', async () => {
    const h = await setup();
    expect(fieldErrors((await h.call('GET', '/exports/exp-1/runs?limit=0')).body)).toHaveProperty([
      'query.limit',
    ]);
    expect(fieldErrors((await h.call('POST', '/exports/exp-1/runs?dryRun=perhaps')).body)).toHaveProperty([
      'query.dryRun',
    ]);
    expect(fieldErrors((await h.call('GET', '/segments?segmentIds=seg-a,nope')).body)).toEqual({
      'query.segmentIds.1': 'no segment "nope"',
    });
  });

  it('a missing export, run or connection is 404', async () => {
    const h = await setup();
    for (const url of ['/exports/x', '/runs/x', '/connections/x', '/exports/x/runs']) {
      expect((await h.call('GET', url)).status, url).toBe(404);
    }
    expect((await h.call('POST', '/exports/x/runs')).status).toBe(404);
  });

  it('a run while another is active is 409 naming it; a detached export cannot run', async () => {
    const h = await setup();
    const first = await h.call('POST', '/exports/exp-1/runs');
    expect(first.status).toBe(202);
    const second = await h.call('POST', '/exports/exp-1/runs');
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(first.body.runId);
    await h.call('POST', `/runs/${first.body.runId}/cancel`);
    expect((await h.call('POST', `/runs/${first.body.runId}/cancel`)).status).toBe(409);
    await h.call('DELETE', '/connections/conn-1?detach=true');
    const detached = await h.call('POST', '/exports/exp-1/runs');
    expect(detached.status).toBe(409);
    expect(detached.body.code).toBe('no_connection');
  });
});

describe('segments', () => {
  it('lists segments with sizes and flags a selection over the cap', async () => {
    const h = new ApiHarness();
    const profiles = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        id: String(from + i),
        attributes: { email: `${from + i}@example.com` },
      }));
    h.segments.set('small', 'Small', profiles(30));
    h.segments.set('large', 'Large', profiles(80, 100));
    await h.addConnection({ cap: 100 });
    const all = await h.call('GET', '/segments', { token: 'dev-viewer' });
    expect(all.body.segments).toEqual(
      expect.arrayContaining([
        { id: 'small', name: 'Small', profiles: 30 },
        { id: 'large', name: 'Large', profiles: 80 },
      ]),
    );
    const may = await h.call('GET', '/segments?segmentIds=small,large&connectionId=conn-1', {
      token: 'dev-viewer',
    });
    expect(may.body.selection).toMatchObject({ cap: 100, profilesInAll: 110, verdict: 'may_exceed_cap' });
    const fits = await h.call('GET', '/segments?segmentIds=large&connectionId=conn-1');
    expect(fits.body.selection.verdict).toBe('within_cap');
    const connection = await h.state.connections.get('conn-1');
    if (connection === undefined) throw new Error('no connection');
    await h.state.connections.revise(
      'conn-1',
      connection.version,
      { cap: 50 },
      { by: 'tester', at: '2025-01-02T00:00:00.000Z' },
    );
    const over = await h.call('GET', '/segments?segmentIds=large&connectionId=conn-1');
    expect(over.body.selection.verdict).toBe('exceeds_cap');
  });
});
