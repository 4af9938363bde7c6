import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AutopilotClient } from '#lib/adapters/autopilot/client.ts';
import { type AutopilotAgent, createAutopilotAgent } from '#lib/adapters/autopilot/http.ts';
import { FatalRunError, MAX_RETRY_AFTER_MS, PermanentError, TransientError } from '#lib/domain/errors.ts';
import {
  type AutopilotStandIn,
  type FaultOptions,
  startAutopilotStandIn,
} from '#local/autopilot-standin/index.ts';

/**
 * Every fault the fault campaign needs, over real loopback HTTP: what the client sees, and whether
 * the stand-in applied the write ("before" faults never do; "after" faults always do).
 */

let standIn: AutopilotStandIn;
let agent: AutopilotAgent;
let key: string;
let keyNo = 0;

const client = (timeoutMs = 5_000): AutopilotClient =>
  new AutopilotClient({ baseUrl: standIn.url, apiKey: key, dispatcher: agent, timeoutMs });
const caught = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};
const stored = (email: string): boolean => standIn.contactByEmail(key, email) !== undefined;
const upsert = (email: string, timeoutMs?: number) => client(timeoutMs).upsertContact({ Email: email });
const faults = (f: FaultOptions): void => {
  standIn.setFaults(f);
  standIn.resetCounts();
};

beforeAll(async () => {
  standIn = await startAutopilotStandIn({ ratePerSecond: 100_000, seed: 3 });
  agent = createAutopilotAgent();
});
beforeEach(() => {
  key = `faults-${++keyNo}-0123456789abcdef`;
  standIn.addKey(key);
  standIn.setFaults(undefined);
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

describe('429 throttling', () => {
  it('an injected 429 without Retry-After is rate limited with no wait hint, and writes nothing', async () => {
    faults({ rules: [{ kind: 'error', status: 429 }] });
    const err = (await caught(upsert('t1@example.com'))) as TransientError;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.details).toEqual({ status: 429, rateLimited: true });
    expect(stored('t1@example.com')).toBe(false);
    expect(standIn.faultCounts()).toEqual({ 'error 429 before': { injected: 1, applied: 0 } });
  });

  it('a Retry-After is passed on, and an hour or a far-future date is capped', async () => {
    const retryAfterOf = async (value: string): Promise<number | undefined> => {
      faults({ rules: [{ kind: 'error', status: 429, retryAfter: value }] });
      return ((await caught(client().listLists())) as TransientError).details.retryAfterMs;
    };
    expect(await retryAfterOf('7')).toBe(7_000);
    expect(await retryAfterOf('3600')).toBe(MAX_RETRY_AFTER_MS);
    expect(await retryAfterOf('Fri, 31 Dec 9999 23:59:59 GMT')).toBe(MAX_RETRY_AFTER_MS);
    expect(await retryAfterOf('soon')).toBeUndefined();
    expect(MAX_RETRY_AFTER_MS).toBe(60_000);
  });
});

describe('5xx', () => {
  it('before the write: TransientError, nothing written', async () => {
    faults({ rules: [{ kind: 'error', status: 503, phase: 'before' }] });
    const err = (await caught(upsert('e1@example.com'))) as TransientError;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.details.status).toBe(503);
    expect(stored('e1@example.com')).toBe(false);
    expect(standIn.faultCounts()).toEqual({ 'error 503 before': { injected: 1, applied: 0 } });
  });

  it('after the write: TransientError, yet the contact was written (the answer was lost)', async () => {
    faults({ rules: [{ kind: 'error', status: 503, phase: 'after', routes: ['POST /contacts'] }] });
    const err = (await caught(client().bulkUpsert([{ Email: 'e2@example.com' }]))) as TransientError;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.details.status).toBe(503);
    expect(stored('e2@example.com')).toBe(true);
    expect(standIn.faultCounts()).toEqual({ 'error 503 after': { injected: 1, applied: 1 } });
    expect(standIn.timeline()).toEqual([
      expect.objectContaining({
        route: 'POST /contacts',
        status: 503,
        fault: 'error 503 after',
        applied: true,
      }),
    ]);
  });
});

describe('connection resets', () => {
  it('before the write: TransientError, nothing written', async () => {
    faults({ rules: [{ kind: 'reset' }] });
    expect(await caught(upsert('r1@example.com'))).toBeInstanceOf(TransientError);
    expect(stored('r1@example.com')).toBe(false);
    expect(standIn.counts()['POST /contact']).toEqual({ 0: 1 });
    expect(standIn.faultCounts()).toEqual({ 'reset before': { injected: 1, applied: 0 } });
  });

  it('after the write: TransientError, yet the write took effect', async () => {
    const { listId } = await client().createList('Resets');
    await upsert('r2@example.com');
    faults({ rules: [{ kind: 'reset', phase: 'after' }] });
    expect(await caught(client().addToList(listId, 'r2@example.com'))).toBeInstanceOf(TransientError);
    expect(standIn.listMemberEmails(key, listId)).toEqual(['r2@example.com']);
    expect(standIn.faultCounts()).toEqual({ 'reset after': { injected: 1, applied: 1 } });
  });
});

describe('hangs and timeouts', () => {
  it('before the write: the client times out and nothing is written', async () => {
    faults({ rules: [{ kind: 'hang', hangMs: 5_000 }] });
    const err = await caught(upsert('h1@example.com', 200));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/timed out/);
    expect(stored('h1@example.com')).toBe(false);
    expect(standIn.faultCounts()).toEqual({ 'hang before': { injected: 1, applied: 0 } });
  });

  it('before the write, shorter than the client waits: answered 504, nothing written', async () => {
    faults({ rules: [{ kind: 'hang', hangMs: 20 }] });
    const err = (await caught(upsert('h2@example.com'))) as TransientError;
    expect(err.details.status).toBe(504);
    expect(stored('h2@example.com')).toBe(false);
  });

  it('after the write: the client times out, yet the write took effect', async () => {
    faults({ rules: [{ kind: 'hang', phase: 'after', hangMs: 5_000 }] });
    const err = await caught(upsert('h3@example.com', 200));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/timed out/);
    expect(stored('h3@example.com')).toBe(true);
    expect(standIn.faultCounts()).toEqual({ 'hang after': { injected: 1, applied: 1 } });
  });
});

describe('malformed answers', () => {
  it('a 2xx whose body is not JSON is a PermanentError(invalid_response); the write took effect', async () => {
    faults({ rules: [{ kind: 'malformed', routes: ['POST /contact'] }] });
    const err = (await caught(upsert('m1@example.com'))) as PermanentError;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.details).toMatchObject({ status: 200, reason: 'invalid_response' });
    expect(stored('m1@example.com')).toBe(true);
    expect(standIn.faultCounts()).toEqual({ 'malformed after': { injected: 1, applied: 1 } });
  });
});

describe('a permanently rejected contact', () => {
  it('gets 400 on a single upsert and is left out of email_contact_map in bulk', async () => {
    faults({ rejectContacts: ['Bad@Example.com', '@blocked.example'] });
    const single = (await caught(upsert('bad@example.COM'))) as PermanentError;
    expect(single).toBeInstanceOf(PermanentError);
    expect(single.details.status).toBe(400);
    expect(single.message).not.toContain('bad@example');

    const outcomes = await client().bulkUpsert([
      { Email: 'good@example.com' },
      { Email: 'someone@blocked.example' },
      { Email: 'someone@notblocked.example' },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, reason: 'not_accepted' });
    expect(standIn.contacts(key).map((c) => c.email)).toEqual(
      expect.arrayContaining(['good@example.com', 'someone@notblocked.example']),
    );
    expect(stored('someone@blocked.example')).toBe(false);
    expect(stored('bad@example.com')).toBe(false);
    expect(standIn.faultCounts()).toEqual({ 'reject-contact': { injected: 2, applied: 0 } });
  });
});

describe('a key revoked mid-run', () => {
  it('answers 401 after N requests; clearing the fault set restores the key', async () => {
    faults({ revokeKeys: { afterRequests: 2 } });
    const c = client();
    await c.listLists();
    await c.listLists();
    const err = (await caught(c.listLists())) as FatalRunError;
    expect(err).toBeInstanceOf(FatalRunError);
    expect(err.reason).toBe('invalid_api_key');
    expect(await caught(c.listLists())).toBeInstanceOf(FatalRunError);
    expect(standIn.faultCounts()).toEqual({ 'key-revoked': { injected: 1, applied: 0 } });
    standIn.setFaults(undefined);
    expect(await c.listLists()).toEqual([]);
  });

  it('answers 401 once the given time has passed', async () => {
    faults({ revokeKeys: { afterMs: 0 } });
    expect(((await caught(client().listLists())) as FatalRunError).reason).toBe('invalid_api_key');
  });

  it('a key revoked by hand stays revoked when the fault set changes', async () => {
    standIn.revokeKey(key);
    standIn.setFaults(undefined);
    expect(await caught(client().listLists())).toBeInstanceOf(FatalRunError);
    standIn.restoreKey(key);
  });
});

describe('schedules', () => {
  const statuses = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      try {
        await client().listLists();
        out.push(200);
      } catch (e) {
        out.push((e as TransientError).details.status ?? 0);
      }
    }
    return out;
  };

  it('strikes every Nth request, the listed ones, and stops at max', async () => {
    faults({ rules: [{ kind: 'error', status: 500, every: 3 }] });
    expect(await statuses(7)).toEqual([200, 200, 500, 200, 200, 500, 200]);
    faults({ rules: [{ kind: 'error', status: 502, at: [2, 4] }] });
    expect(await statuses(5)).toEqual([200, 502, 200, 502, 200]);
    faults({ rules: [{ kind: 'error', status: 503, max: 2 }] });
    expect(await statuses(4)).toEqual([503, 503, 200, 200]);
    expect(standIn.faultCounts()).toEqual({ 'error 503 before': { injected: 2, applied: 0 } });
  });

  it('an outage window answers its status inside the window only', async () => {
    faults({ outages: [{ fromMs: 0, toMs: 60_000, status: 502 }] });
    expect(await statuses(2)).toEqual([502, 502]);
    expect(standIn.faultCounts()).toEqual({ 'outage 502': { injected: 2, applied: 0 } });
    faults({ rules: [{ kind: 'reset', fromMs: 60_000, toMs: 120_000 }] });
    expect(await statuses(2)).toEqual([200, 200]);
  });

  it('the same seed and requests give the same faults', async () => {
    const mixed: FaultOptions = {
      rules: [
        { kind: 'error', status: 503, rate: 0.2, phase: 'after' },
        { kind: 'error', status: 429, rate: 0.2 },
        { kind: 'reset', rate: 0.1 },
      ],
    };
    faults(mixed);
    const first = await statuses(30);
    faults(mixed);
    expect(await statuses(30)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([0, 200, 429, 503]));
  });
});

describe('fault set validation', () => {
  it.each([
    [{ rules: [{ kind: 'error', status: 503, routes: ['POST /contactz'] }] }, 'rules.0.routes.0'],
    [{ rules: [{ kind: 'malformed', phase: 'before' }] }, 'rules.0.phase'],
    [{ rules: [{ kind: 'reset', status: 503 }] }, 'rules.0.status'],
    [{ rules: [{ kind: 'error', status: 200 }] }, 'rules.0.status'],
    [{ rules: [{ kind: 'error', fromMs: 10, toMs: 5 }] }, 'rules.0.toMs'],
    [{ rejectContacts: ['not-an-address'] }, 'rejectContacts.0'],
    [{ revokeKeys: {} }, 'revokeKeys'],
  ])('refuses %j, naming %s', (bad, path) => {
    expect(() => standIn.setFaults(bad as FaultOptions)).toThrow(path);
  });
});
