import { describe, expect, it } from 'vitest';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { aRun } from '#test/fixtures/state-records.ts';
import { ApiHarness, editable } from '#test/support/api-harness.ts';

const setup = async () => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [
    { id: '1', attributes: { email: 'a@example.com', first_name: 'A' } },
    { id: '2', attributes: { email: 'b@example.com' } },
  ]);
  h.segments.set('seg-b', 'Legacy', [{ id: '3', attributes: { mail: 'c@example.com', first_name: 'C' } }]);
  await h.addConnection();
  await h.addExport();
  return h;
};

describe('problem responses', () => {
  it.each([
    ['no token', {}],
    ['an unknown token', { authorization: 'Bearer dev-stranger' }],
    ['another scheme', { authorization: 'Basic ZGV2LWFkbWluOg==' }],
  ])('%s → 401 as problem details, with the Bearer challenge', async (_name, options) => {
    const h = await setup();
    const reply = await h.call('GET', '/exports', { token: 'none', ...options });
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(reply.body).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.any(String) });
  });

  it('405 is problem details and names the allowed methods', async () => {
    const h = await setup();
    const reply = await h.call('PATCH', '/exports/exp-1', { body: {} });
    expect(reply.status).toBe(405);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.headers.allow).toBe('GET, PUT, DELETE');
    expect(reply.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
  });

  it.each(['bearer dev-admin', 'BEARER dev-admin', 'Bearer   dev-admin', 'bEaReR\tdev-admin'])(
    'the Bearer scheme is case-insensitive: %j',
    async (authorization) => {
      const h = await setup();
      expect((await h.call('GET', '/exports', { authorization })).status).toBe(200);
    },
  );
});

describe('warnings at save', () => {
  it('an email attribute one selected segment does not carry is saved with a warning naming it', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports', {
      body: {
        name: 'Both',
        connectionId: 'conn-1',
        segmentIds: ['seg-a', 'seg-b'],
        dataMatching: { email: 'email', fields: { FirstName: 'first_name' } },
      },
    });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.warnings).toEqual([
      { path: 'dataMatching.email', reason: expect.stringContaining('"seg-b"') },
    ]);
  });

  it('a mapped field no sampled profile carries is a warning; carried ones are not', async () => {
    const h = await setup();
    const view = (await h.call('GET', '/exports/exp-1')).body;
    const reply = await h.call('PUT', '/exports/exp-1', {
      body: {
        ...editable(view),
        dataMatching: {
          ...view.dataMatching,
          fields: { FirstName: 'first_name', LastName: 'last_nmae' },
          custom: [{ name: 'Plan', type: 'string', source: 'plan' }],
        },
        version: view.version,
      },
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.warnings.map((w: { path: string }) => w.path)).toEqual([
      'dataMatching.fields.LastName',
      'dataMatching.custom.0.source',
    ]);
  });

  it('a matching every segment carries saves without warnings', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports', {
      body: { name: 'A', connectionId: 'conn-1', segmentIds: ['seg-a'], dataMatching: { email: 'email' } },
    });
    expect(reply.body.warnings).toEqual([]);
  });
});

describe('run views', () => {
  const sending = (h: ApiHarness, overrides: Partial<RunRecord>) =>
    h.state.runs.create(
      aRun({ id: 'run-x', status: 'sending', planningDone: true, batchesTotal: 4, ...overrides }),
    );

  it.each([
    ['a normal pace', 5, { bulkUpsert: 10 }],
    ['more requests sent than planned (retries)', 5, { bulkUpsert: 90 }],
    ['an absurdly slow budget', 1e-300, { bulkUpsert: 1 }],
    ['no budget', 0, {}],
  ])('the ETA of a sending run is never before now (%s)', async (_name, rate, requests) => {
    const h = await setup();
    await sending(h, {
      estimate: {
        requests: { bulkUpsert: 40 },
        totalRequests: 40,
        floorRequests: 40,
        ratePerSecond: rate,
        seconds: 8,
        secondsAtDocumentedRate: 8,
        upperBound: false,
      },
      progress: { ...aRun().progress, requests },
    });
    h.clock.advance(3_600_000);
    const reply = await h.call('GET', '/runs/run-x');
    expect(reply.status, reply.text).toBe(200);
    if (reply.body.eta !== null) expect(Date.parse(reply.body.eta)).toBeGreaterThanOrEqual(h.clock.now());
    const history = await h.call('GET', '/exports/exp-1/runs');
    expect(history.status).toBe(200);
  });

  it('names the unit of its counts: memberships in list mode, contacts in field mode', async () => {
    const h = await setup();
    await h.state.runs.create(aRun({ id: 'run-list', membership: 'list' }));
    await h.state.runs.create(aRun({ id: 'run-field', membership: 'field' }));
    expect((await h.call('GET', '/runs/run-list')).body.progress.unit).toBe('memberships');
    expect((await h.call('GET', '/runs/run-field')).body.progress.unit).toBe('contacts');
    const doc = (await h.call('GET', '/openapi.json')).body;
    const unit = doc.components.schemas.Run.properties.progress.properties.unit;
    expect(unit.enum).toEqual(['memberships', 'contacts']);
    expect(unit.description).toMatch(/memberships.*contacts/);
  });
});
