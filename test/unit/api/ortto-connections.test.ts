import { describe, expect, it } from 'vitest';
import { TransientError } from '#lib/domain/errors.ts';
import {
  API_KEY,
  ApiHarness,
  ORTTO_KEY,
  validConnection,
  validOrttoConnection,
} from '#test/support/api-harness.ts';

const fieldErrors = (body: { errors?: Array<{ path: string; reason: string }> }) =>
  Object.fromEntries((body.errors ?? []).map((e) => [e.path, e.reason]));

const EU_KEY = 'ortto-key-of-the-eu-region-01';
const NEXT_KEY = 'ortto-second-key-same-account';

const harness = () => {
  const h = new ApiHarness();
  h.ortto('eu').validKeys.add(EU_KEY);
  return h;
};

/** An Ortto connection created through the API, in `region` (and its key valid there). */
const created = async (h: ApiHarness, overrides: Record<string, unknown> = {}) => {
  const reply = await h.call('POST', '/connections', { body: validOrttoConnection(overrides) });
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
};

describe('creating an Ortto connection', () => {
  it('checks the key with Ortto’s own key check (not a list read) and keeps type and region', async () => {
    const h = harness();
    const body = await created(h);
    expect(body).toMatchObject({ type: 'ortto', region: 'global', status: 'active', keyHint: 'cdef' });
    expect(h.ortto('global').calls).toEqual(['verify']);
    expect(h.destination.requests).toEqual([]);
    expect(await h.secrets.getApiKey(body.id)).toBe(ORTTO_KEY);
    const stored = await h.state.connections.get(body.id);
    expect(stored).toMatchObject({ type: 'ortto', region: 'global' });
  });

  it('in another region, checks the key there', async () => {
    const h = harness();
    const body = await created(h, { region: 'eu', apiKey: EU_KEY });
    expect(body).toMatchObject({ type: 'ortto', region: 'eu' });
    expect(h.ortto('eu').calls).toEqual(['verify']);
    expect(h.ortto('global').calls).toEqual([]);
  });

  it('refuses a key of another region, naming Ortto and the region, and stores nothing', async () => {
    const h = harness();
    const reply = await h.call('POST', '/connections', {
      body: validOrttoConnection({ region: 'au', apiKey: EU_KEY }),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toBe(
      'Ortto rejected this API key in the "au" region; check the key and that its account is in this ' +
        'region, and try again.',
    );
    expect(reply.body.detail).not.toMatch(/Autopilot/);
    expect(fieldErrors(reply.body)).toEqual({ apiKey: 'rejected by Ortto' });
    expect(await h.state.connections.list()).toEqual([]);
  });

  it('gets Ortto’s documented rate by default, unless the deployment or the request sets one', async () => {
    const h = harness();
    h.defaultRatePerSecond = undefined;
    expect((await created(h)).ratePerSecond).toBe(10);
    expect((await created(h, { ratePerSecond: 3 })).ratePerSecond).toBe(3);
    h.defaultRatePerSecond = 7;
    expect((await created(h)).ratePerSecond).toBe(7);
    // Autopilot's stays its own.
    h.defaultRatePerSecond = undefined;
    const autopilot = await h.call('POST', '/connections', { body: validConnection() });
    expect(autopilot.body).toMatchObject({ type: 'autopilot', ratePerSecond: 5 });
    expect(autopilot.body).not.toHaveProperty('region');
  });

  it('refuses a region on an Autopilot connection, naming `region`', async () => {
    const h = harness();
    const reply = await h.call('POST', '/connections', { body: validConnection({ region: 'eu' }) });
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)).toEqual({
      region: 'applies to Ortto connections only; leave it out for an Autopilot connection',
    });
    expect(h.destination.requests).toEqual([]);
  });

  it.each([
    ['an unknown destination', { type: 'mailchimp' }, 'type'],
    ['an unknown region', { region: 'us' }, 'region'],
  ])('refuses %s, naming the field', async (_name, change, path) => {
    const h = harness();
    const reply = await h.call('POST', '/connections', { body: validOrttoConnection(change) });
    expect(reply.status).toBe(400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual([path]);
  });

  it('answers 503 naming Ortto when Ortto cannot be reached, and stores nothing', async () => {
    const h = harness();
    h.ortto().account.failNext = 1;
    const reply = await h.call('POST', '/connections', { body: validOrttoConnection() });
    expect(reply.status).toBe(503);
    expect(reply.body.detail).toBe(
      'Ortto could not check the key right now (it answered 503); try again shortly.',
    );
    expect(await h.state.connections.list()).toEqual([]);
  });

  it('answers 503 within the key-check deadline when Ortto does not answer', async () => {
    const h = harness();
    h.keyCheckTimeoutMs = 20;
    const fake = h.ortto();
    const open = fake.account.open.bind(fake.account);
    fake.account.open = (key, hooks) => ({ ...open(key, hooks), verify: () => new Promise<never>(() => {}) });
    const reply = await h.call('POST', '/connections', { body: validOrttoConnection() });
    expect(reply.status).toBe(503);
    expect(reply.body.detail).toBe('Ortto did not answer in time; try again.');
  });
});

describe('an Ortto connection’s region and type are fixed', () => {
  it.each([
    ['region', { region: 'eu' }, /another region is a new connection/],
    ['type', { type: 'autopilot' }, /create a new connection/],
  ])('an edit naming its %s is refused, saying what to do instead', async (path, change, reason) => {
    const h = harness();
    const { id } = await created(h);
    const reply = await h.call('PATCH', `/connections/${id}`, { body: { version: 1, ...change } });
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)[path]).toMatch(reason);
    expect(await h.state.connections.get(id)).toMatchObject({ type: 'ortto', region: 'global', version: 1 });
  });

  it('a key rotation naming a region is refused before any key check', async () => {
    const h = harness();
    const { id } = await created(h);
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, {
      body: { apiKey: EU_KEY, region: 'eu' },
    });
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body).region).toMatch(/cannot change/);
    expect(h.ortto('eu').calls).toEqual([]);
    expect(await h.secrets.getApiKey(id)).toBe(ORTTO_KEY);
  });
});

describe('rotating an Ortto key', () => {
  it('checks the new key in the connection’s region, with no account comparison, and stores it', async () => {
    const h = harness();
    const { id } = await created(h);
    h.ortto().validKeys.add(NEXT_KEY);
    h.ortto().calls.length = 0;
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: NEXT_KEY } });
    expect(reply.status, reply.text).toBe(200);
    // Ortto cannot tell accounts apart: only the key check is made, never a read to compare.
    expect(h.ortto().calls).toEqual(['verify']);
    expect(reply.body).toMatchObject({ type: 'ortto', region: 'global', keyHint: 'ount', version: 2 });
    expect(await h.secrets.getApiKey(id)).toBe(NEXT_KEY);
  });

  it('refuses a key of another region, naming Ortto, and keeps the old key', async () => {
    const h = harness();
    const { id } = await created(h);
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: EU_KEY } });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(/^Ortto rejected this API key in the "global" region/);
    expect(await h.secrets.getApiKey(id)).toBe(ORTTO_KEY);
  });

  it('says Ortto could not be reached when the check gets no answer at all', async () => {
    const h = harness();
    const { id } = await created(h);
    const fake = h.ortto();
    const open = fake.account.open.bind(fake.account);
    fake.account.open = (key, hooks) => ({
      ...open(key, hooks),
      verify: async () => {
        throw new TransientError('POST /v1/person/custom-field/get failed: ECONNRESET');
      },
    });
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: NEXT_KEY } });
    expect(reply.status).toBe(503);
    expect(reply.body.detail).toBe('Ortto could not be reached to check the key; try again shortly.');
  });

  it('with newAccount, resets what its exports remember, as for Autopilot', async () => {
    const h = harness();
    const { id } = await created(h);
    h.segments.set('seg-a', 'VIP', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addExport({ connectionId: id, membership: 'tag' }, 'exp-o');
    await h.state.snapshots.setList('exp-o', 'seg-a', 'remembered-target');
    h.ortto().validKeys.add(NEXT_KEY);
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, {
      body: { apiKey: NEXT_KEY, newAccount: true },
    });
    expect(reply.status, reply.text).toBe(200);
    expect(await h.state.snapshots.lists('exp-o')).toEqual({});
  });

  it('without newAccount, keeps what its exports remember (no check can say the account changed)', async () => {
    const h = harness();
    const { id } = await created(h);
    h.segments.set('seg-a', 'VIP', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addExport({ connectionId: id, membership: 'tag' }, 'exp-o');
    await h.state.snapshots.setList('exp-o', 'seg-a', 'remembered-target');
    h.ortto().validKeys.add(NEXT_KEY);
    const reply = await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: NEXT_KEY } });
    expect(reply.status, reply.text).toBe(200);
    expect(await h.state.snapshots.lists('exp-o')).toEqual({ 'seg-a': 'remembered-target' });
  });

  it('an Autopilot key is still compared with the account’s lists (a list read, not Ortto’s check)', async () => {
    const h = harness();
    const reply = await h.call('POST', '/connections', { body: validConnection() });
    h.destination.requests.length = 0;
    await h.call('POST', `/connections/${reply.body.id}/rotate-key`, { body: { apiKey: API_KEY } });
    expect(h.destination.requests.map((r) => r.kind)).toEqual(['listLists']);
    expect(h.ortto().calls).toEqual([]);
  });
});

describe('views of an Ortto connection', () => {
  it('show its type and region to every role; settings to admins only', async () => {
    const h = harness();
    const { id } = await created(h, { region: 'eu', apiKey: EU_KEY, sharing: 'admins+contributors' });
    const admin = (await h.call('GET', `/connections/${id}`)).body;
    expect(admin).toMatchObject({ type: 'ortto', region: 'eu', cap: 100_000, canUse: true });
    for (const token of ['dev-contributor', 'dev-viewer'] as const) {
      const one = (await h.call('GET', `/connections/${id}`, { token })).body;
      expect(one).toEqual({
        id,
        displayName: 'Ortto marketing',
        type: 'ortto',
        region: 'eu',
        canUse: token === 'dev-contributor',
      });
    }
  });

  it('an Ortto connection stored without a region reads as `global`', async () => {
    const h = harness();
    await h.addConnection({ id: 'conn-o', type: 'ortto', sharing: 'admins+contributors' });
    const one = (await h.call('GET', '/connections/conn-o', { token: 'dev-viewer' })).body;
    expect(one).toMatchObject({ type: 'ortto', region: 'global' });
  });
});
