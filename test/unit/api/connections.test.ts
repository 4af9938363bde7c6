import { describe, expect, it } from 'vitest';
import { TransientError } from '#lib/domain/errors.ts';
import type { DestinationSession } from '#lib/ports/destination.ts';
import { ApiHarness, validConnection } from '#test/support/api-harness.ts';
import { readAll } from '#test/support/contracts/helpers.ts';

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i), attributes: { email: `p${i}@example.com` } }));

/** Keys that open other Autopilot accounts: their sessions see other lists (or answer never). */
const accounts = (h: ApiHarness, sessions: Record<string, Partial<DestinationSession>>) => {
  for (const key of Object.keys(sessions)) h.destination.validKeys.add(key);
  const open = h.destination.open.bind(h.destination);
  h.destination.open = (apiKey, hooks) => ({ ...open(apiKey, hooks), ...sessions[apiKey] });
};

const OTHER_ACCOUNT = 'key-of-another-account-0001';
const SAME_ACCOUNT = 'second-key-same-account-0001';
const SLOW = 'key-autopilot-never-answers';
const never = () => new Promise<never>(() => {});

const snapshotOf = async (h: ApiHarness, exportId: string) => {
  return readAll(h.state, exportId);
};

/** conn-1 with exp-1 (sent once: its snapshot remembers a list), conn-2 with exp-2 (sent too). */
const sentOnce = async () => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', people(4));
  await h.addConnection({ id: 'conn-1' });
  await h.addConnection({ id: 'conn-2' });
  await h.addExport({ connectionId: 'conn-1' }, 'exp-1');
  await h.addExport({ connectionId: 'conn-2', listTitles: { 'seg-a': 'Other' } }, 'exp-2');
  for (const id of ['exp-1', 'exp-2']) {
    await h.start(id);
    await h.drain();
  }
  accounts(h, {
    [OTHER_ACCOUNT]: { findLists: async () => [] },
    [SLOW]: { findLists: never, verify: never },
  });
  h.destination.validKeys.add(SAME_ACCOUNT);
  return h;
};

describe('the deployment’s default rate', () => {
  it('a connection created without a rate gets the deployment’s defaultRatePerSecond', async () => {
    const h = new ApiHarness();
    h.defaultRatePerSecond = 12;
    const created = await h.call('POST', '/connections', { body: validConnection() });
    expect(created.status, created.text).toBe(201);
    expect(created.body.ratePerSecond).toBe(12);
    const explicit = await h.call('POST', '/connections', { body: validConnection({ ratePerSecond: 3 }) });
    expect(explicit.body.ratePerSecond).toBe(3);
  });

  it('without one configured, a new connection gets the rate the destination documents', async () => {
    const h = new ApiHarness();
    h.defaultRatePerSecond = undefined;
    const created = await h.call('POST', '/connections', { body: validConnection() });
    expect(created.status, created.text).toBe(201);
    expect(created.body.ratePerSecond).toBe(h.destination.costs.documentedRatePerSecond);
    expect(created.body.ratePerSecond).toBeGreaterThan(0);
  });
});

describe('rotating to a key of another Autopilot account', () => {
  it('is refused with 409 while the exports remember lists the new account does not have', async () => {
    const h = await sentOnce();
    const before = await snapshotOf(h, 'exp-1');
    const reply = await h.call('POST', '/connections/conn-1/rotate-key', { body: { apiKey: OTHER_ACCOUNT } });
    expect(reply.status, reply.text).toBe(409);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.body).toMatchObject({ code: 'different_account', exports: ['exp-1'] });
    expect(reply.body.detail).toMatch(/different Autopilot account.*"newAccount": true/);
    expect(await h.keyStore.getApiKey('conn-1')).toBe('key-1');
    expect(await snapshotOf(h, 'exp-1')).toEqual(before);
  });

  it('confirmed with newAccount, resets what the connection’s exports remember, and the next run sends all again', async () => {
    const h = await sentOnce();
    const other = await snapshotOf(h, 'exp-2');
    const reply = await h.call('POST', '/connections/conn-1/rotate-key', {
      body: { apiKey: OTHER_ACCOUNT, newAccount: true },
    });
    expect(reply.status, reply.text).toBe(200);
    expect(await h.keyStore.getApiKey('conn-1')).toBe(OTHER_ACCOUNT);
    expect(await snapshotOf(h, 'exp-1')).toEqual([]);
    expect(await h.state.snapshots.lists('exp-1')).toEqual({});
    expect(await snapshotOf(h, 'exp-2')).toEqual(other);

    const sentBefore = h.destination.requests.length;
    const { run } = await h.start('exp-1');
    await h.drain();
    expect((await h.run(run.id)).status).toBe('succeeded');
    expect((await h.run(run.id)).progress.accepted).toBe(4);
    expect(h.destination.requests.length).toBeGreaterThan(sentBefore);
  });

  it('a key of the same account (it sees the remembered lists) rotates and keeps the snapshot', async () => {
    const h = await sentOnce();
    const before = await snapshotOf(h, 'exp-1');
    const reply = await h.call('POST', '/connections/conn-1/rotate-key', { body: { apiKey: SAME_ACCOUNT } });
    expect(reply.status, reply.text).toBe(200);
    expect(await snapshotOf(h, 'exp-1')).toEqual(before);
  });

  it('a new account is not switched to while one of its exports is running', async () => {
    const h = await sentOnce();
    const { run } = await h.start('exp-1');
    const reply = await h.call('POST', '/connections/conn-1/rotate-key', {
      body: { apiKey: OTHER_ACCOUNT, newAccount: true },
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ code: 'run_in_progress', runId: run.id });
    expect(await h.keyStore.getApiKey('conn-1')).toBe('key-1');
  });

  it('rotating clears a rejected-key flag in the stored connection', async () => {
    const h = await sentOnce();
    await h.state.connections.setStatus('conn-1', 'invalid_key');
    await h.call('POST', '/connections/conn-1/rotate-key', { body: { apiKey: SAME_ACCOUNT } });
    expect((await h.call('GET', '/connections/conn-1')).body.status).toBe('active');
  });
});

describe('a slow key check', () => {
  it.each([
    ['creating a connection', 'POST', '/connections', validConnection({ apiKey: SLOW })],
    ['rotating a key', 'POST', '/connections/conn-1/rotate-key', { apiKey: SLOW }],
  ])('%s answers 503 within the key-check deadline and changes nothing', async (_name, method, url, body) => {
    const h = await sentOnce();
    h.keyCheckTimeoutMs = 20;
    const connections = await h.state.connections.list();
    const reply = await h.call(method, url, { body });
    expect(reply.status).toBe(503);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.body.detail).toBe('Autopilot did not answer in time; try again.');
    expect(await h.state.connections.list()).toEqual(connections);
    expect(await h.keyStore.getApiKey('conn-1')).toBe('key-1');
  });
});

describe('a key check that cannot reach Autopilot', () => {
  const UNREACHABLE = 'key-while-autopilot-is-down';
  const reset = async (): Promise<never> => {
    throw new TransientError('GET /v1/lists failed: ECONNRESET (socket hang up)');
  };

  it.each([
    ['creating a connection', 'POST', '/connections', validConnection({ apiKey: UNREACHABLE })],
    ['rotating a key', 'POST', '/connections/conn-1/rotate-key', { apiKey: UNREACHABLE }],
  ])(
    '%s answers 503 saying Autopilot could not be reached, distinct from a rejected key',
    async (_name, method, url, body) => {
      const h = await sentOnce();
      accounts(h, { [UNREACHABLE]: { findLists: reset } });
      const connections = await h.state.connections.list();
      const reply = await h.call(method, url, { body });
      expect(reply.status).toBe(503);
      expect(reply.body.detail).toBe('Autopilot could not be reached to check the key; try again shortly.');
      expect(reply.body.detail).not.toMatch(/rejected/i);
      expect(await h.state.connections.list()).toEqual(connections);
      expect(await h.keyStore.getApiKey('conn-1')).toBe('key-1');
    },
  );
});
