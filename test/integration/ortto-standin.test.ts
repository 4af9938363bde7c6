import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type KeyOptions,
  MERGE_LIMIT,
  type OrttoStandIn,
  type StandInOptions,
  startOrttoStandIn,
} from '#local/ortto-standin/index.ts';

interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}
type Json = Record<string, unknown>;
interface MergeEntry {
  status: string;
  person_id?: string;
  error?: string;
}

const ID = /^[0-9a-f]{24}$/;
const newKey = (): string => randomBytes(16).toString('hex');

async function post(
  base: string,
  path: string,
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(key === null ? {} : { 'X-Api-Key': key }),
      ...headers,
    },
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
}

const started: OrttoStandIn[] = [];
async function start(options: StandInOptions = {}): Promise<OrttoStandIn> {
  const standIn = await startOrttoStandIn({ ratePerSecond: 100_000, banThreshold: 1_000_000, ...options });
  started.push(standIn);
  return standIn;
}
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

describe('Ortto stand-in: keys and regions', () => {
  let api: OrttoStandIn;
  beforeAll(async () => {
    api = await start();
  });

  it('answers 401 in Ortto’s error envelope without a key, with an unknown key and with a revoked one', async () => {
    const key = newKey();
    api.addKey(key);
    api.revokeKey(key);
    for (const k of [null, newKey(), key]) {
      const reply = await post(api.url, '/tags/get', k, {});
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({
        request_id: expect.stringMatching(ID),
        code: 401,
        error: 'Invalid API key',
      });
    }
    api.restoreKey(key);
    expect((await post(api.url, '/tags/get', key, {})).status).toBe(200);
  });

  it('accepts a key only on its own region, chosen by path prefix or by the real host name', async () => {
    const eu = newKey();
    api.addKey(eu, { region: 'eu' });
    expect(api.urls.eu).toBe(`${api.url.replace(/\/v1$/, '')}/eu/v1`);
    expect((await post(api.urls.eu, '/tags/get', eu, {})).status).toBe(200);
    expect((await post(api.urls.global, '/tags/get', eu, {})).status).toBe(401);
    expect((await post(api.urls.au, '/tags/get', eu, {})).status).toBe(401);
    // fetch sets Host itself, so the real host name goes out through node:http.
    const viaHost = (region: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${api.url}/tags/get`,
          { method: 'POST', headers: { Host: region, 'X-Api-Key': eu, 'Content-Type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    expect(await viaHost('api.eu.ap3api.com')).toBe(200);
    expect(await viaHost('api.ap3api.com')).toBe(401);
  });

  it('accepts a key on any region with crossRegionKeys', async () => {
    const other = await start({ crossRegionKeys: true });
    const au = newKey();
    other.addKey(au, { region: 'au' });
    expect((await post(other.urls.global, '/tags/get', au, {})).status).toBe(200);
  });

  it('keeps accounts apart', async () => {
    const [a, b] = [newKey(), newKey()];
    api.addKey(a);
    api.addKey(b);
    await post(api.url, '/person/merge', a, { people: [{ fields: { 'str::email': 'a@x.com' } }] });
    expect(api.people(a)).toHaveLength(1);
    expect(api.people(b)).toEqual([]);
  });

  it('answers 404 for an unknown route or a method other than POST, after authentication', async () => {
    const key = newKey();
    api.addKey(key);
    expect((await post(api.url, '/person/delete', key, {})).status).toBe(404);
    const get = await fetch(`${api.url}/tags/get`, { headers: { 'X-Api-Key': key } });
    expect(get.status).toBe(404);
    expect(api.counts().UNKNOWN?.[404]).toBeGreaterThanOrEqual(2);
  });

  it('refuses a body that is not JSON (400) or larger than 2 MB (413)', async () => {
    const key = newKey();
    api.addKey(key);
    const bad = await post(api.url, '/person/merge', key, '{"people":');
    expect(bad.status).toBe(400);
    expect((bad.json as Json).error).toBe('Request body is not valid JSON');
    const huge = {
      people: [{ fields: { 'str::email': 'a@x.com', 'str::first': 'x'.repeat(2 * 1024 * 1024) } }],
    };
    const tooBig = await post(api.url, '/person/merge', key, huge);
    expect(tooBig.status).toBe(413);
    expect(api.people(key)).toEqual([]);
  });
});

describe('Ortto stand-in: person/merge', () => {
  let api: OrttoStandIn;
  let key: string;
  const merge = (body: Json, k = key): Promise<Reply> => post(api.url, '/person/merge', k, body);
  const entries = (reply: Reply): MergeEntry[] => (reply.json as { people: MergeEntry[] }).people;
  const person = (email: string, extra: Json = {}, more: Json = {}): Json => ({
    fields: { 'str::email': email, ...extra },
    ...more,
  });
  const fresh = (options?: KeyOptions): void => {
    key = newKey();
    api.addKey(key, options);
  };

  beforeAll(async () => {
    api = await start();
  });
  beforeEach(() => {
    fresh();
    api.configure({ mixedBatch: 'inline', strategy1Tags: 'apply', strategy3Tags: 'ignore' });
  });

  it('answers person_id and created|merged for each person, in input order', async () => {
    const first = await merge({ people: [person('a@x.com'), person('b@x.com')], merge_by: ['str::email'] });
    expect(first.status).toBe(200);
    const [a, b] = entries(first);
    expect(a).toEqual({ status: 'created', person_id: expect.stringMatching(ID) });
    expect(b?.status).toBe('created');
    expect(api.personByEmail(key, 'a@x.com')?.id).toBe(a?.person_id);
    const second = await merge({ people: [person('B@X.com'), person('c@x.com'), person('a@x.com')] });
    expect(entries(second)).toEqual([
      { status: 'merged', person_id: b?.person_id },
      { status: 'created', person_id: expect.stringMatching(ID) },
      { status: 'merged', person_id: a?.person_id },
    ]);
  });

  it(`takes 1 to ${MERGE_LIMIT} people and names the field otherwise`, async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => person(`p${i}@x.com`));
    expect((await merge({ people: many(MERGE_LIMIT) })).status).toBe(200);
    for (const people of [[], many(MERGE_LIMIT + 1)]) {
      const reply = await merge({ people });
      expect(reply.status).toBe(400);
      expect((reply.json as Json).error).toMatch(/^people: /);
    }
    expect((await merge({})).status).toBe(400);
  });

  it('refuses an unknown merge_strategy, async merges, a person_id merge_by with other keys and another suppression field', async () => {
    for (const [body, field] of [
      [{ merge_strategy: 4 }, 'merge_strategy'],
      [{ async: true }, 'async'],
      [{ merge_by: ['str::person_id', 'str::email'] }, 'merge_by'],
      [{ merge_by: ['str::first'] }, 'merge_by'],
      [{ suppression_list_field_id: 'str::ei' }, 'suppression_list_field_id'],
    ] as const) {
      const reply = await merge({ people: [person('a@x.com')], ...body });
      expect(reply.status).toBe(400);
      expect((reply.json as Json).error).toMatch(new RegExp(`^${field}: `));
    }
    expect(api.people(key)).toEqual([]);
  });

  it('uses the key’s default merge_by when the request has none', async () => {
    fresh({ defaultMergeBy: ['str::ei'] });
    await merge({ people: [{ fields: { 'str::ei': 'u-1', 'str::email': 'old@x.com' } }] });
    const reply = await merge({ people: [{ fields: { 'str::ei': 'u-1', 'str::email': 'new@x.com' } }] });
    expect(entries(reply)[0]?.status).toBe('merged');
    expect(api.people(key).map((p) => p.fields['str::email'])).toEqual(['new@x.com']);
  });

  it('merges by person_id alone, and a person_id that matches nobody is invalid', async () => {
    const id = entries(await merge({ people: [person('a@x.com')] }))[0]?.person_id;
    const byId = {
      people: [{ fields: { 'str::person_id': id, 'str::first': 'Ann' } }],
      merge_by: ['str::person_id'],
    };
    expect(entries(await merge(byId))).toEqual([{ status: 'merged', person_id: id }]);
    expect(api.personByEmail(key, 'a@x.com')?.fields['str::first']).toBe('Ann');
    const unknown = await merge({ ...byId, people: [{ fields: { 'str::person_id': 'f'.repeat(24) } }] });
    expect(unknown.status).toBe(400);
    expect((unknown.json as { details: unknown }).details).toEqual([
      { status: 'invalid', error: 'Person not found' },
    ]);
  });

  it('finds by the first matching key (find_strategy 0), only the first given key (1), or all keys (2)', async () => {
    await merge({ people: [{ fields: { 'str::email': 'a@x.com', 'str::ei': 'u-1' } }] });
    const both = ['str::ei', 'str::email'];
    const found = await merge({
      people: [{ fields: { 'str::email': 'a@x.com', 'str::ei': 'u-9' } }],
      merge_by: both,
    });
    expect(entries(found)[0]?.status).toBe('merged');
    const onlyFirst = await merge({
      people: [{ fields: { 'str::email': 'a@x.com', 'str::ei': 'u-2' } }],
      merge_by: both,
      find_strategy: 1,
    });
    // u-2 matches nobody and the email is taken, so no second person can be created with it.
    expect(onlyFirst.status).toBe(400);
    expect((onlyFirst.json as { details: unknown }).details).toEqual([
      { status: 'invalid', error: 'Email belongs to another person' },
    ]);
    const all = await merge({
      people: [{ fields: { 'str::email': 'a@x.com', 'str::ei': 'u-9' } }],
      merge_by: both,
      find_strategy: 2,
    });
    expect(entries(all)[0]?.status).toBe('merged');
  });

  it('overwrites under strategy 2 (null clears, omitted fields stay), fills only empty fields under 1, leaves people alone under 3', async () => {
    await merge({ people: [person('a@x.com', { 'str::first': 'Ann', 'str::last': 'Lee' })] });
    await merge({
      people: [person('a@x.com', { 'str::first': 'Anne', 'str::last': null })],
      merge_strategy: 2,
    });
    expect(api.personByEmail(key, 'a@x.com')?.fields).toMatchObject({ 'str::first': 'Anne' });
    expect(api.personByEmail(key, 'a@x.com')?.fields).not.toHaveProperty('str::last');
    await merge({
      people: [person('a@x.com', { 'str::first': 'Zed', 'str::last': 'Moe' })],
      merge_strategy: 1,
    });
    expect(api.personByEmail(key, 'a@x.com')?.fields).toMatchObject({
      'str::first': 'Anne',
      'str::last': 'Moe',
    });
    const ignore = await merge({
      people: [person('a@x.com', { 'str::first': 'Bob' }), person('new@x.com', { 'str::first': 'New' })],
      merge_strategy: 3,
    });
    expect(entries(ignore).map((e) => e.status)).toEqual(['merged', 'created']);
    expect(api.personByEmail(key, 'a@x.com')?.fields['str::first']).toBe('Anne');
    expect(api.personByEmail(key, 'new@x.com')?.fields['str::first']).toBe('New');
  });

  it('sets tags and unsets them; unsetting a tag the person lacks changes nothing and creates no tag', async () => {
    await merge({ people: [person('a@x.com', {}, { tags: ['seg:1', 'seg:2'] })] });
    await merge({ people: [person('a@x.com', {}, { tags: ['seg:3'], unset_tags: ['seg:1', 'seg:9'] })] });
    expect(api.personByEmail(key, 'a@x.com')?.tags).toEqual(['seg:2', 'seg:3']);
    expect(api.tags(key).map((t) => [t.name, t.count])).toEqual([
      ['seg:1', 0],
      ['seg:2', 1],
      ['seg:3', 1],
    ]);
  });

  it('refuses a person whose tag is in both tags and unset_tags', async () => {
    const reply = await merge({
      people: [person('a@x.com', {}, { tags: ['seg:1'], unset_tags: ['seg:1'] }), person('b@x.com')],
    });
    expect(entries(reply)[0]).toEqual({ status: 'invalid', error: 'A tag is in both tags and unset_tags' });
  });

  it.each([
    [1, 'apply', ['seg:new']],
    [1, 'ignore', ['seg:old']],
    [3, 'apply', ['seg:new']],
    [3, 'ignore', ['seg:old']],
  ] as const)(
    'under strategy %i with tags %s, an existing person ends with %j',
    async (strategy, mode, tags) => {
      api.configure(strategy === 1 ? { strategy1Tags: mode } : { strategy3Tags: mode });
      await merge({ people: [person('a@x.com', {}, { tags: ['seg:old'] })] });
      await merge({
        people: [
          person('a@x.com', {}, { tags: ['seg:new'], unset_tags: ['seg:old'] }),
          person('b@x.com', {}, { tags: ['seg:new'] }),
        ],
        merge_strategy: strategy,
      });
      expect(api.personByEmail(key, 'a@x.com')?.tags).toEqual(tags);
      // A new person is tagged whatever the switch.
      expect(api.personByEmail(key, 'b@x.com')?.tags).toEqual(['seg:new']);
    },
  );

  it('by default applies tags under strategy 1 and ignores them under strategy 3', async () => {
    const other = await start();
    other.addKey(key);
    const m = (body: Json) => post(other.url, '/person/merge', key, body);
    await m({ people: [person('a@x.com', {}, { tags: ['seg:0'] })] });
    await m({ people: [person('a@x.com', {}, { tags: ['seg:1'] })], merge_strategy: 1 });
    await m({ people: [person('a@x.com', {}, { tags: ['seg:3'] })], merge_strategy: 3 });
    expect(other.personByEmail(key, 'a@x.com')?.tags).toEqual(['seg:0', 'seg:1']);
  });

  it('with skip_non_existing updates existing people and creates nobody', async () => {
    await merge({ people: [person('a@x.com', {}, { tags: ['seg:1'] })] });
    const reply = await merge({
      people: [
        person('a@x.com', {}, { unset_tags: ['seg:1'] }),
        person('ghost@x.com', {}, { unset_tags: ['seg:1'] }),
      ],
      skip_non_existing: true,
    });
    expect(reply.status).toBe(200);
    expect(entries(reply)).toEqual([
      { status: 'merged', person_id: expect.stringMatching(ID) },
      { status: 'ignored' },
    ]);
    expect(api.people(key)).toHaveLength(1);
    expect(api.tagMemberEmails(key, 'seg:1')).toEqual([]);
  });

  it('with suppression_list_field_id skips creating a suppressed email but still merges an existing one', async () => {
    await merge({ people: [person('old@x.com')] });
    api.suppress(key, 'OLD@x.com');
    api.suppress(key, 'new@x.com');
    const reply = await merge({
      people: [person('old@x.com', {}, { tags: ['seg:1'] }), person('new@x.com'), person('ok@x.com')],
      suppression_list_field_id: 'str::email',
    });
    expect(entries(reply).map((e) => e.status)).toEqual(['merged', 'suppressed', 'created']);
    expect(entries(reply)[1]).toEqual({ status: 'suppressed', error: 'Email is suppressed' });
    expect(api.personByEmail(key, 'new@x.com')).toBeUndefined();
    const without = await merge({ people: [person('new@x.com')] });
    expect(entries(without)[0]?.status).toBe('created');
  });

  it('answers 400 with one detail per person when no person in the batch is valid, and writes nothing', async () => {
    api.suppress(key, 's@x.com');
    const reply = await merge({
      people: [
        person('s@x.com'),
        person('a@x.com', { 'str:cm:nope': 'x' }),
        { fields: { 'str::first': 'no key' } },
      ],
      suppression_list_field_id: 'str::email',
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      request_id: expect.stringMatching(ID),
      code: 400,
      error: 'No valid contacts provided (Email is suppressed)',
      details: [
        { status: 'suppressed', error: 'Email is suppressed' },
        { status: 'invalid', error: 'failed to validate field str:cm:nope: Object not found' },
        { status: 'invalid', error: 'No value for any merge_by field (str::email)' },
      ],
    });
    expect(api.people(key)).toEqual([]);
  });

  it.each([
    ['str::first', 'x'.repeat(256), 'longer than 255 characters'],
    ['bol::gdpr', 'yes', 'expected true or false'],
    ['str::email', 'not-an-email', null],
    ['geo::city', 'Paris', 'expected an object'],
  ])('refuses %s = %j as invalid, naming the field', async (field, value, problem) => {
    const reply = await merge({
      people: [person('ok@x.com'), { fields: { 'str::email': 'a@x.com', [field]: value } }],
    });
    const error = entries(reply)[1]?.error;
    expect(error).toBe(
      problem === null ? 'Email is invalid' : `failed to validate field ${field}: ${problem}`,
    );
  });

  describe('a batch with valid and invalid people (mixedBatch)', () => {
    const batch = { people: [person('a@x.com'), person('bad', {}), person('c@x.com')] };

    it('inline (default): applies the valid ones and puts each error in its place', async () => {
      const reply = await merge(batch);
      expect(entries(reply).map((e) => e.status)).toEqual(['created', 'invalid', 'created']);
      expect(entries(reply)[1]).toEqual({ status: 'invalid', error: 'Email is invalid' });
    });

    it('omit: applies the valid ones and leaves the invalid ones out, so the answer is shorter than the batch', async () => {
      api.configure({ mixedBatch: 'omit' });
      const reply = await merge(batch);
      expect(entries(reply).map((e) => e.status)).toEqual(['created', 'created']);
      expect(api.people(key)).toHaveLength(2);
    });

    it('reject: refuses the whole batch with 400 and writes nothing', async () => {
      api.configure({ mixedBatch: 'reject' });
      const reply = await merge(batch);
      expect(reply.status).toBe(400);
      expect((reply.json as { details: MergeEntry[] }).details.map((d) => d.status)).toEqual([
        'valid',
        'invalid',
        'valid',
      ]);
      expect(api.people(key)).toEqual([]);
    });
  });

  describe('consent', () => {
    it('subscribes new people to email (bol::p) and not to SMS, and records no permission write when none is sent', async () => {
      await merge({ people: [person('a@x.com')] });
      expect(api.personByEmail(key, 'a@x.com')?.fields).toMatchObject({ 'bol::p': true, 'bol::sp': false });
      expect(api.permissionWrites(key)).toEqual([]);
    });

    it('re-subscribes an unsubscribed person when bol::p is sent, and records it', async () => {
      await merge({ people: [person('a@x.com')] });
      api.unsubscribe(key, 'a@x.com');
      await merge({ people: [person('a@x.com', { 'str::first': 'A' })] });
      expect(api.personByEmail(key, 'a@x.com')?.fields['bol::p']).toBe(false);
      await merge({ people: [person('a@x.com', { 'bol::p': true })] });
      expect(api.personByEmail(key, 'a@x.com')?.fields['bol::p']).toBe(true);
      expect(api.permissionWrites(key)).toEqual([
        {
          field: 'bol::p',
          value: true,
          personId: api.personByEmail(key, 'a@x.com')?.id,
          before: false,
          after: true,
        },
      ]);
    });

    it('keeps an unsubscribed person unsubscribed under strategy 1 and records even an invalid entry’s bol::sp', async () => {
      await merge({ people: [person('a@x.com')] });
      api.unsubscribe(key, 'a@x.com');
      await merge({ people: [person('a@x.com', { 'bol::p': true })], merge_strategy: 1 });
      expect(api.personByEmail(key, 'a@x.com')?.fields['bol::p']).toBe(false);
      await merge({ people: [person('a@x.com'), { fields: { 'bol::sp': true } }] });
      expect(api.permissionWrites(key).map((w) => [w.field, w.before, w.after])).toEqual([
        ['bol::p', false, false],
        ['bol::sp', undefined, undefined],
      ]);
    });
  });
});
