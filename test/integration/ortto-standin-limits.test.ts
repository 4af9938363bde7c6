import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type OrttoStandIn, type StandInOptions, startOrttoStandIn } from '#local/ortto-standin/index.ts';

interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

const MERGE = 'POST /v1/person/merge';
const TAGS = 'POST /v1/tags/get';

const started: OrttoStandIn[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

/** A stand-in on a fake clock that only moves when a test says so. */
async function start(options: StandInOptions = {}) {
  const clock = { now: 0 };
  const api = await startOrttoStandIn({ seed: 7, clock: () => clock.now, ...options });
  started.push(api);
  const key = randomBytes(16).toString('hex');
  api.addKey(key);
  const post = async (path: string, body: unknown = {}, k: string | null = key): Promise<Reply> => {
    const response = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(k === null ? {} : { 'X-Api-Key': k }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json, headers: response.headers };
  };
  const mergeOne = (email: string) =>
    post('/person/merge', { people: [{ fields: { 'str::email': email } }] });
  return { api, key, clock, post, mergeOne };
}

describe('Ortto stand-in: rate limit', () => {
  it('admits 10 requests a second per key by default, then answers 429 with try-in-seconds and no Retry-After', async () => {
    const { api, post } = await start();
    for (let i = 0; i < 10; i++) expect((await post('/tags/get')).status).toBe(200);
    const throttled = await post('/tags/get');
    expect(throttled.status).toBe(429);
    expect(throttled.json).toEqual({
      error: { code: 'rate-limit', message: 'rate limit', 'try-in-seconds': 1 },
    });
    expect(throttled.headers.get('retry-after')).toBeNull();
    // A second of the clock refills the bucket; another key has a bucket of its own.
    const other = randomBytes(8).toString('hex');
    api.addKey(other);
    expect((await post('/tags/get', {}, other)).status).toBe(200);
    expect(api.counts()[TAGS]).toEqual({ 200: 11, 429: 1 });
  });

  it('refills at the configured rate on the clock, and sends Retry-After when asked', async () => {
    const { api, clock, post } = await start({ ratePerSecond: 2, retryAfter: true });
    expect((await post('/tags/get')).status).toBe(200);
    expect((await post('/tags/get')).status).toBe(200);
    const throttled = await post('/tags/get');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    clock.now += 499;
    expect((await post('/tags/get')).status).toBe(429);
    clock.now += 1;
    expect((await post('/tags/get')).status).toBe(200);
    api.configure({ ratePerSecond: 0.1, burst: 1 });
    clock.now += 10_000;
    expect((await post('/tags/get')).status).toBe(200);
    expect((await post('/tags/get')).json).toMatchObject({ error: { 'try-in-seconds': 10 } });
  });
});

describe('Ortto stand-in: bad-request IP ban', () => {
  it('bans the IP for 15 s after 15 bad requests within 15 s, even for a valid key', async () => {
    const { api, clock, post } = await start({ ratePerSecond: 1_000 });
    for (let i = 0; i < 14; i++) expect((await post('/tags/get', {}, 'wrong-key')).status).toBe(401);
    expect((await post('/person/merge', '{"people":')).status).toBe(400);
    expect(api.bans()).toBe(1);
    const banned = await post('/tags/get');
    expect(banned.status).toBe(429);
    expect(banned.json).toEqual({
      error: { code: 'rate-limit', message: 'too many bad requests: IP blocked', 'try-in-seconds': 15 },
    });
    clock.now += 14_001;
    expect((await post('/tags/get')).json).toMatchObject({ error: { 'try-in-seconds': 1 } });
    clock.now += 999;
    expect((await post('/tags/get')).status).toBe(200);
  });

  it('counts only bad requests inside the window, and never its own 429s', async () => {
    const { api, clock, post } = await start({ ratePerSecond: 1, burst: 1 });
    for (let i = 0; i < 14; i++) await post('/tags/get', {}, null);
    clock.now += 15_000;
    await post('/tags/get', {}, null);
    expect(api.bans()).toBe(0);
    expect((await post('/tags/get')).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await post('/tags/get')).status).toBe(429);
    expect(api.bans()).toBe(0);
  });

  it('takes its threshold, window and length from the switches', async () => {
    const { api, clock, post } = await start({
      banThreshold: 3,
      banWindowSeconds: 2,
      banSeconds: 60,
      ratePerSecond: 1_000,
    });
    await post('/nowhere');
    await post('/tags/get', []);
    clock.now += 2_500;
    await post('/person/get', { limit: 0 });
    expect(api.bans()).toBe(0);
    await post('/person/get', { limit: 0 });
    await post('/person/get', { limit: 0 });
    expect(api.bans()).toBe(1);
    clock.now += 59_000;
    expect((await post('/tags/get')).status).toBe(429);
    api.resetCounts();
    expect((await post('/tags/get')).status).toBe(200);
  });
});

describe('Ortto stand-in: fault injection', () => {
  it('an error before the route writes nothing; an error after it loses only the answer', async () => {
    const { api, key, mergeOne } = await start({
      ratePerSecond: 1_000,
      // Each rule counts the requests that reach it: the second never sees the first's strike.
      faults: {
        rules: [
          { kind: 'error', status: 503, at: [1] },
          { kind: 'error', status: 502, phase: 'after', at: [1] },
        ],
      },
    });
    expect((await mergeOne('before@x.com')).json).toMatchObject({ code: 503 });
    expect(api.personByEmail(key, 'before@x.com')).toBeUndefined();
    expect((await mergeOne('after@x.com')).status).toBe(502);
    expect(api.personByEmail(key, 'after@x.com')).toBeDefined();
    expect(api.faultCounts()).toEqual({
      'error 503 before': { injected: 1, applied: 0 },
      'error 502 after': { injected: 1, applied: 1 },
    });
  });

  it('the write took effect, then the connection dropped (reset after)', async () => {
    const { api, key, mergeOne } = await start({
      faults: { rules: [{ kind: 'reset', phase: 'after', routes: [MERGE], max: 1 }] },
    });
    await expect(mergeOne('lost@x.com')).rejects.toThrow();
    expect(api.personByEmail(key, 'lost@x.com')).toBeDefined();
    expect(api.timeline().at(-1)).toMatchObject({
      route: MERGE,
      status: 0,
      fault: 'reset after',
      applied: true,
    });
    expect((await mergeOne('lost@x.com')).json).toMatchObject({ people: [{ status: 'merged' }] });
  });

  it('answers a 2xx that is not JSON after the write (malformed), and 504 without the write (hang before)', async () => {
    const { api, key, mergeOne } = await start({
      faults: {
        rules: [
          { kind: 'malformed', at: [1] },
          { kind: 'hang', hangMs: 1, at: [1] },
        ],
      },
    });
    const garbled = await mergeOne('a@x.com');
    expect(garbled.status).toBe(200);
    expect(garbled.json).toBeUndefined();
    expect(api.personByEmail(key, 'a@x.com')).toBeDefined();
    expect((await mergeOne('b@x.com')).status).toBe(504);
    expect(api.personByEmail(key, 'b@x.com')).toBeUndefined();
  });

  it('injects 429s in the rate-limit body with their try-in-seconds, every Nth request, at most max times', async () => {
    const { api, post } = await start({
      faults: { rules: [{ kind: 'error', status: 429, tryInSeconds: 7, every: 2, max: 2, routes: [TAGS] }] },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('/tags/get')).status);
    expect(statuses).toEqual([200, 429, 200, 429, 200, 200]);
    api.setFaults({ rules: [{ kind: 'error', status: 429, tryInSeconds: 7 }] });
    expect((await post('/tags/get')).json).toEqual({
      error: { code: 'rate-limit', message: 'rate limit', 'try-in-seconds': 7 },
    });
  });

  it('fails every request in an outage window on the clock, and revokes keys after N requests until the next fault set', async () => {
    const { api, clock, post } = await start({
      faults: { outages: [{ fromMs: 1_000, toMs: 2_000, status: 502 }] },
    });
    expect((await post('/tags/get')).status).toBe(200);
    clock.now = 1_500;
    expect((await post('/tags/get')).status).toBe(502);
    clock.now = 2_000;
    expect((await post('/tags/get')).status).toBe(200);
    api.setFaults({ revokeKeys: { afterRequests: 2 } });
    expect((await post('/tags/get')).status).toBe(200);
    expect((await post('/tags/get')).status).toBe(200);
    expect((await post('/tags/get')).status).toBe(401);
    api.setFaults(undefined);
    expect((await post('/tags/get')).status).toBe(200);
    expect(api.faultCounts()['key-revoked']).toEqual({ injected: 1, applied: 0 });
  });

  it('adds latency to routed requests (a lower bound, which a slow machine cannot break)', async () => {
    const { post } = await start({ faults: { latencyMs: { min: 150, max: 150 } } });
    const t0 = performance.now();
    expect((await post('/tags/get')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
  });

  it('refuses an invalid fault set, naming the field', async () => {
    const { api } = await start();
    expect(() => api.setFaults({ rules: [{ kind: 'error', routes: ['POST /v1/person/delete'] }] })).toThrow(
      /rules\.0\.routes\.0: unknown route/,
    );
    expect(() => api.setFaults({ rules: [{ kind: 'reset', tryInSeconds: 3 }] })).toThrow(
      /rules\.0\.tryInSeconds/,
    );
  });

  it('never records a key or an email in counts, timeline or log', async () => {
    const lines: string[] = [];
    const { api, key, mergeOne } = await start({ log: (line) => lines.push(line) });
    await mergeOne('secret-person@x.com');
    const seen = JSON.stringify([api.counts(), api.timeline(), lines]);
    expect(seen).toContain(MERGE);
    expect(seen).not.toContain(key);
    expect(seen).not.toContain('secret-person');
  });
});
