import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgent } from '#lib/adapters/http/transport.ts';
import { BadRequestGuard } from '#lib/adapters/ortto/bad-request-guard.ts';
import { OrttoClient, type OrttoClientOptions } from '#lib/adapters/ortto/client.ts';
import type { OrttoPerson } from '#lib/adapters/ortto/encoding.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import { withRetries } from '#lib/use-cases/destination-calls.ts';
import { type FaultOptions, type OrttoStandIn, startOrttoStandIn } from '#local/ortto-standin/index.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';

/**
 * What the Ortto client makes of throttling, refused keys, bad requests and lost answers, against the
 * stand-in over loopback. The stand-in and the rate budget share one virtual clock, so a wait Ortto
 * asks for is waited on that clock, and nothing here depends on how fast the machine is.
 */

const MERGE = 'POST /v1/person/merge';
const CONNECTION = 'c-ortto';

let standIn: OrttoStandIn;
let agent: HttpAgent;
let clock: FakeClock;
let key: string;

const byEmail = { mergeBy: ['str::email'], suppressionListFieldId: 'str::email' } as const;
const person = (email: string, tags: string[] = []): OrttoPerson => ({
  fields: { 'str::email': email },
  tags,
});
const client = (options: Partial<OrttoClientOptions> = {}): OrttoClient =>
  new OrttoClient({ apiKey: key, baseUrl: standIn.url, agent, timeoutMs: 5_000, ...options });
const faults = (f: FaultOptions | undefined): void => {
  standIn.setFaults(f);
  standIn.resetCounts();
};
const caught = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  clock = new FakeClock();
  standIn = await startOrttoStandIn({ seed: 11, clock: () => clock.now() });
  agent = createHttpAgent();
});
beforeEach(() => {
  key = randomBytes(16).toString('hex');
  standIn.addKey(key);
  standIn.configure({ ratePerSecond: 100_000, burst: 100_000 });
  faults(undefined);
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

/** A sender's loop in miniature: the shared budget in the hooks, the retry policy around each call. */
const sender = (ratePerSecond: number) => {
  const budget = new InMemoryRateBudget(clock);
  const holds: number[] = [];
  const sent: Array<{ at: number; status: number }> = [];
  let startedAt = 0;
  const hooks: RequestHooks = {
    beforeRequest: async () => {
      await budget.acquire(CONNECTION, ratePerSecond);
      startedAt = clock.now();
    },
    afterResponse: (_kind, status) => {
      sent.push({ at: startedAt, status });
    },
  };
  const spied = {
    acquire: budget.acquire.bind(budget),
    backOff: async (id: string, ms: number) => {
      holds.push(ms);
      await budget.backOff(id, ms);
    },
  };
  const policy = {
    clock,
    rateBudget: spied,
    connectionId: CONNECTION,
    maxAttempts: 3,
    baseDelayMs: 250,
    ratePerSecond,
    remainingMs: () => 3_600_000,
    reserveMs: 0,
  };
  const c = client({ hooks });
  return {
    holds,
    sent,
    merge: (people: OrttoPerson[]) => withRetries(policy, () => c.mergePeople(people, byEmail)),
  };
};

describe('429 with try-in-seconds', () => {
  it('is a rate-limited TransientError carrying the wait Ortto asked for, and writes nothing', async () => {
    faults({ rules: [{ kind: 'error', status: 429, tryInSeconds: 7, routes: [MERGE] }] });
    const err = (await caught(client().mergePeople([person('w@example.com')], byEmail))) as TransientError;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.details).toEqual({ status: 429, rateLimited: true, retryAfterMs: 7_000 });
    expect(standIn.personByEmail(key, 'w@example.com')).toBeUndefined();
  });

  it('a storm at twice the plan’s rate loses nobody, and every wait holds the whole budget as long as asked', async () => {
    standIn.configure({ ratePerSecond: 5, burst: 5 });
    const s = sender(10);
    const emails = Array.from({ length: 400 }, (_, i) => `storm${i}@example.com`);
    for (let b = 0; b < emails.length; b += 20) {
      const outcomes = await s.merge(emails.slice(b, b + 20).map((e) => person(e, ['seg:storm'])));
      expect(outcomes.every((o) => o.ok)).toBe(true);
    }
    expect(standIn.tagMemberEmails(key, 'seg:storm')).toEqual([...emails].sort());
    const throttled = s.sent.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(s.holds).toHaveLength(throttled.length);
    // The stand-in asks for whole seconds; each is passed on as it came.
    expect(s.holds.every((ms) => ms >= 1_000 && ms % 1_000 === 0)).toBe(true);
    s.sent.forEach((r, i) => {
      const next = s.sent[i + 1];
      if (r.status === 429 && next !== undefined)
        expect(next.at - r.at).toBeGreaterThanOrEqual(s.holds[throttled.indexOf(r)] ?? 0);
    });
  });

  it('an injected storm with try-in-seconds 3 is waited out three seconds at a time', async () => {
    faults({ rules: [{ kind: 'error', status: 429, tryInSeconds: 3, routes: [MERGE], every: 2 }] });
    const s = sender(10);
    for (let b = 0; b < 5; b++) await s.merge([person(`inj${b}@example.com`, ['seg:inj'])]);
    expect(standIn.tagMemberEmails(key, 'seg:inj')).toHaveLength(5);
    expect(s.holds).toEqual([3_000, 3_000, 3_000, 3_000]);
    expect(standIn.faultCounts()).toEqual({ 'error 429 before': { injected: 4, applied: 0 } });
  });
});

describe('a refused key', () => {
  it('a key revoked mid-run fails fast: one 401, a FatalRunError the retry policy does not retry', async () => {
    faults({ revokeKeys: { afterRequests: 2 } });
    const s = sender(10);
    await s.merge([person('k1@example.com')]);
    await s.merge([person('k2@example.com')]);
    const err = await caught(s.merge([person('k3@example.com')]));
    expect(err).toBeInstanceOf(FatalRunError);
    expect((err as FatalRunError).reason).toBe('invalid_api_key');
    expect(err.message).not.toContain(key);
    expect(standIn.counts()[MERGE]).toEqual({ 200: 2, 401: 1 });
  });
});

describe('the bad-request guard', () => {
  it('stops a client after 5 bad requests in a row, before Ortto’s 15-in-15 s ban', async () => {
    standIn.configure({ banThreshold: 15, banWindowSeconds: 15, banSeconds: 15 });
    const c = client();
    await c.createCustomField({ name: 'Dup', type: 'text' });
    const errors: Error[] = [];
    for (let i = 0; i < 20; i++)
      errors.push(await caught(c.createCustomField({ name: 'Dup', type: 'text' })));
    expect(errors.slice(0, 5).every((e) => e instanceof PermanentError)).toBe(true);
    expect(errors.slice(5).every((e) => e instanceof FatalRunError)).toBe(true);
    expect(errors[5]?.message).toContain('5 bad requests in a row');
    expect(standIn.counts()['POST /v1/person/custom-field/create']).toEqual({ 200: 1, 400: 5 });
    expect(standIn.bans()).toBe(0);
    // Merges are refused too: the guard stops the client, not one route.
    expect(await caught(c.mergePeople([person('g@example.com')], byEmail))).toBeInstanceOf(FatalRunError);
  });

  it('successes between bad requests reset the run in a row, but Ortto’s 15-second window still stops the client at 10', async () => {
    const c = client({ guard: new BadRequestGuard({ clock: () => clock.now() }) });
    await c.createCustomField({ name: 'Once', type: 'text' });
    const attempt = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: Error) => e.name,
      );
    const dup = () => attempt(c.createCustomField({ name: 'Once', type: 'text' }));
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) outcomes.push(await dup());
      outcomes.push(await attempt(c.getTags()));
    }
    const bad = 'PermanentError';
    expect(outcomes).toEqual([
      ...[bad, bad, bad, bad, 'ok'],
      ...[bad, bad, bad, bad, 'ok'],
      ...[bad, bad, 'FatalRunError', 'FatalRunError', 'FatalRunError'],
    ]);
    expect(standIn.counts()['POST /v1/person/custom-field/create']).toEqual({ 200: 1, 400: 10 });
    expect(standIn.bans()).toBe(0);
    // Once the window has passed, the client may send again.
    await clock.sleep(15_001);
    expect(await dup()).toBe(bad);
  });

  it('clients sending from one address can share one guard, and its count', async () => {
    const shared = new BadRequestGuard({ consecutive: 3 });
    const a = client({ guard: shared });
    const b = client({ guard: shared });
    await a.createCustomField({ name: 'Twice', type: 'text' });
    expect(await caught(a.createCustomField({ name: 'Twice', type: 'text' }))).toBeInstanceOf(PermanentError);
    expect(await caught(b.createCustomField({ name: 'Twice', type: 'text' }))).toBeInstanceOf(PermanentError);
    expect(await caught(a.createCustomField({ name: 'Twice', type: 'text' }))).toBeInstanceOf(PermanentError);
    expect(await caught(b.getTags())).toBeInstanceOf(FatalRunError);
    expect(standIn.counts()['POST /v1/tags/get']).toBeUndefined();
  });
});

describe('a lost answer', () => {
  it.each<[string, FaultOptions['rules']]>([
    ['a reset after the write', [{ kind: 'reset', phase: 'after', routes: [MERGE], max: 1 }]],
    ['a 503 after the write', [{ kind: 'error', status: 503, phase: 'after', routes: [MERGE], max: 1 }]],
    ['a body cut short after the write', [{ kind: 'malformed', routes: [MERGE], max: 1 }]],
  ])('%s is a TransientError, and the retried merge changes nothing more', async (_name, rules) => {
    faults({ rules });
    const c = client();
    const err = await caught(c.mergePeople([person('lost@example.com', ['seg:l'])], byEmail));
    expect(err).toBeInstanceOf(TransientError);
    expect(Object.values(standIn.faultCounts())).toEqual([{ injected: 1, applied: 1 }]);
    const written = standIn.personByEmail(key, 'lost@example.com');
    expect(written?.tags).toEqual(['seg:l']);
    const retried = await c.mergePeople([person('lost@example.com', ['seg:l'])], byEmail);
    expect(retried).toEqual([{ ok: true, status: 'merged', personId: written?.id }]);
    expect(standIn.people(key)).toHaveLength(1);
  });

  it('no answer within the deadline is a TransientError that names the timeout', async () => {
    faults({ rules: [{ kind: 'hang', phase: 'after', hangMs: 5_000, routes: [MERGE], max: 1 }] });
    const err = await caught(client({ timeoutMs: 100 }).mergePeople([person('slow@example.com')], byEmail));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe('Ortto POST /v1/person/merge timed out');
  });

  it('a 5xx before the route is transient; a 404 and a 413 are permanent, with their reasons', async () => {
    const statusOf = async (status: number) => {
      faults({ rules: [{ kind: 'error', status, routes: [MERGE], max: 1 }] });
      return caught(client().mergePeople([person('e@example.com')], byEmail));
    };
    expect(await statusOf(502)).toBeInstanceOf(TransientError);
    expect(await statusOf(404)).toMatchObject({ details: { status: 404, reason: 'not_found' } });
    expect(await statusOf(413)).toMatchObject({ details: { status: 413, reason: 'payload_too_large' } });
  });
});
