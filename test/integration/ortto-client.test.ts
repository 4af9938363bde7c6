import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgent } from '#lib/adapters/http/transport.ts';
import { OrttoClient, type OrttoClientOptions } from '#lib/adapters/ortto/client.ts';
import type { OrttoPerson } from '#lib/adapters/ortto/encoding.ts';
import { allPeople, TagMemberReader } from '#lib/adapters/ortto/people.ts';
import { FatalRunError, PermanentError, ValidationError } from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import { type MixedBatchMode, type OrttoStandIn, startOrttoStandIn } from '#local/ortto-standin/index.ts';

/** The Ortto client against the Ortto stand-in over loopback: every operation, as Ortto would answer it. */

const MERGE = 'POST /v1/person/merge';
const PERSON_GET = 'POST /v1/person/get';

let standIn: OrttoStandIn;
let agent: HttpAgent;
let key: string;
let kinds: string[];

const hooks: RequestHooks = {
  beforeRequest: async (kind) => {
    kinds.push(kind);
  },
  afterResponse: () => {},
};
const client = (options: Partial<OrttoClientOptions> = {}): OrttoClient =>
  new OrttoClient({ apiKey: key, baseUrl: standIn.url, agent, hooks, ...options });
const person = (email: string, extra: Partial<OrttoPerson> = {}): OrttoPerson => ({
  fields: { 'str::email': email },
  ...extra,
});
const byEmail = { mergeBy: ['str::email'], suppressionListFieldId: 'str::email' } as const;
const requests = (route: string): number =>
  Object.values(standIn.counts()[route] ?? {}).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  standIn = await startOrttoStandIn({ ratePerSecond: 100_000, seed: 5, clock: () => 0 });
  agent = createHttpAgent();
});
beforeEach(() => {
  key = randomBytes(16).toString('hex');
  standIn.addKey(key);
  standIn.configure({ mixedBatch: 'inline', tagFilter: false });
  standIn.resetCounts();
  kinds = [];
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

describe('person/merge', () => {
  it('creates and merges people with their tags, answering each in input order', async () => {
    const first = await client().mergePeople(
      [person('a@example.com', { tags: ['seg:1'] }), person('b@example.com', { tags: ['seg:1', 'seg:2'] })],
      byEmail,
    );
    expect(first.map((o) => o.ok && o.status)).toEqual(['created', 'created']);
    const again = await client().mergePeople(
      [
        person('b@example.com', { unsetTags: ['seg:1'] }),
        person('c@example.com', { tags: ['seg:2'] }),
        person('a@example.com', { fields: { 'str::email': 'a@example.com', 'str::first': 'Ann' } }),
      ],
      byEmail,
    );
    expect(again.map((o) => o.ok && o.status)).toEqual(['merged', 'created', 'merged']);
    // Position 0 is b, whatever order Ortto's ids have: the id it answered is b's.
    const b = standIn.personByEmail(key, 'b@example.com');
    expect(again[0]).toEqual({ ok: true, status: 'merged', personId: b?.id });
    expect(first[1]).toEqual({ ok: true, status: 'created', personId: b?.id });
    expect(standIn.tagMemberEmails(key, 'seg:1')).toEqual(['a@example.com']);
    expect(standIn.tagMemberEmails(key, 'seg:2')).toEqual(['b@example.com', 'c@example.com']);
    expect(standIn.personByEmail(key, 'a@example.com')?.fields['str::first']).toBe('Ann');
    expect(kinds).toEqual(['merge', 'merge']);
  });

  it('with skip_non_existing, untags people who exist and creates nobody', async () => {
    await client().mergePeople([person('in@example.com', { tags: ['seg:9'] })], byEmail);
    const outcomes = await client().mergePeople(
      [
        person('in@example.com', { unsetTags: ['seg:9'] }),
        person('gone@example.com', { unsetTags: ['seg:9'] }),
      ],
      { ...byEmail, skipNonExisting: true },
    );
    expect(outcomes.map((o) => o.ok && o.status)).toEqual(['merged', 'ignored']);
    expect(standIn.tagMemberEmails(key, 'seg:9')).toEqual([]);
    expect(standIn.personByEmail(key, 'gone@example.com')).toBeUndefined();
  });

  it('reaches a region through its own base URL; a key used on another region is refused as fatal', async () => {
    const euKey = randomBytes(16).toString('hex');
    standIn.addKey(euKey, { region: 'eu' });
    const eu = client({ apiKey: euKey, baseUrl: standIn.urls.eu });
    expect((await eu.mergePeople([person('eu@example.com')], byEmail))[0]?.ok).toBe(true);
    const wrongHost = client({ apiKey: euKey, baseUrl: standIn.urls.global });
    const err = await wrongHost.getTags().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalRunError);
    expect((err as FatalRunError).reason).toBe('invalid_api_key');
    expect((err as Error).message).not.toContain(euKey);
  });

  it('refuses a batch outside 1–100 people or over 2 MB before sending anything', async () => {
    const many = Array.from({ length: 101 }, (_, i) => person(`p${i}@example.com`));
    await expect(client().mergePeople(many, byEmail)).rejects.toMatchObject({
      details: { reason: 'merge_size' },
    });
    await expect(client().mergePeople([], byEmail)).rejects.toMatchObject({
      details: { reason: 'merge_size' },
    });
    const long = 'x'.repeat(4_000);
    const heavy = Array.from({ length: 100 }, (_, i) => ({
      fields: {
        'str::email': `h${i}@example.com`,
        'txt:cm:a': long,
        'txt:cm:b': long,
        'txt:cm:c': long,
        'txt:cm:d': long,
        'txt:cm:e': long,
      },
    }));
    const err = (await client()
      .mergePeople(heavy, byEmail)
      .catch((e: unknown) => e)) as PermanentError;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.details.reason).toBe('payload_too_large');
    expect(err.message).toMatch(/100 people make 2\d{6} bytes, at most 2000000/);
    expect(requests(MERGE)).toBe(0);
  });

  it('fails a person it cannot send on its own and sends the rest', async () => {
    const outcomes = await client().mergePeople(
      [
        person('ok@example.com'),
        { fields: { 'str::first': 'No key' } },
        person('long@example.com', { tags: ['t'.repeat(300)] }),
      ],
      byEmail,
    );
    expect(outcomes[0]).toMatchObject({ ok: true, status: 'created' });
    expect(outcomes[1]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no value for any merge_by field/),
    });
    expect(outcomes[2]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/tags\[0\]: longer than 255/),
    });
    expect(standIn.people(key)).toHaveLength(1);
  });
});

describe('bol::p and bol::sp are never sent', () => {
  it('a person carrying a consent field refuses the whole call, and Ortto records no permission write', async () => {
    for (const field of ['bol::p', 'bol::sp', 'BOL::P']) {
      const err = await client()
        .mergePeople(
          [person('fine@example.com'), { fields: { 'str::email': 'x@example.com', [field]: true } }],
          byEmail,
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues[0]?.path).toBe(`fields.${field}`);
    }
    expect(requests(MERGE)).toBe(0);
    expect(standIn.permissionWrites(key)).toEqual([]);
  });

  it('merging fields and tags onto an unsubscribed person leaves them unsubscribed', async () => {
    await client().mergePeople([person('u@example.com')], byEmail);
    standIn.unsubscribe(key, 'u@example.com');
    await client().mergePeople(
      [{ fields: { 'str::email': 'u@example.com', 'str::first': 'U' }, tags: ['seg:1'] }],
      byEmail,
    );
    expect(standIn.personByEmail(key, 'u@example.com')?.fields['bol::p']).toBe(false);
    expect(standIn.permissionWrites(key)).toEqual([]);
  });
});

/** New valid, invalid (a field the account lacks), existing valid, new suppressed. */
const mixedBatch = async () => {
  await client().mergePeople([person('old@example.com')], byEmail);
  standIn.suppress(key, 'sup@example.com');
  standIn.resetCounts();
  return client().mergePeople(
    [
      person('new@example.com', { tags: ['seg:m'] }),
      { fields: { 'str::email': 'bad@example.com', 'str:cm:missing': 'x' }, tags: ['seg:m'] },
      person('old@example.com', { tags: ['seg:m'] }),
      person('sup@example.com', { tags: ['seg:m'] }),
    ],
    byEmail,
  );
};

describe('a batch with valid and invalid people, under each reading of Ortto', () => {
  it.each<[MixedBatchMode, number]>([
    ['inline', 1],
    ['reject', 2],
  ])(
    '%s: each person gets its own outcome, in its place, and only the valid are written (%i requests)',
    async (mode, merges) => {
      standIn.configure({ mixedBatch: mode });
      const outcomes = await mixedBatch();
      expect(outcomes.map((o) => (o.ok ? o.status : `${o.status}: ${o.reason}`))).toEqual([
        'created',
        'invalid: failed to validate field str:cm:missing: Object not found',
        'merged',
        'suppressed: Email is suppressed',
      ]);
      expect(standIn.tagMemberEmails(key, 'seg:m')).toEqual(['new@example.com', 'old@example.com']);
      expect(requests(MERGE)).toBe(merges);
    },
  );

  it('omit: an answer with fewer entries than people is refused, naming both counts', async () => {
    standIn.configure({ mixedBatch: 'omit' });
    const err = (await mixedBatch().catch((e: unknown) => e)) as PermanentError;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.details.reason).toBe('answer_count_mismatch');
    expect(err.message).toContain('answered 2 entries for 4 people sent');
  });
});

describe('a batch with no valid person', () => {
  it.each<MixedBatchMode>(['inline', 'omit', 'reject'])(
    '%s: the 400 fails each person with its reason and throws nothing',
    async (mode) => {
      standIn.configure({ mixedBatch: mode });
      standIn.suppress(key, 'sup2@example.com');
      const outcomes = await client().mergePeople(
        [{ fields: { 'str::email': 'bad2@example.com', 'str:cm:nope': 'x' } }, person('sup2@example.com')],
        byEmail,
      );
      expect(outcomes).toEqual([
        { ok: false, status: 'invalid', reason: 'failed to validate field str:cm:nope: Object not found' },
        { ok: false, status: 'suppressed', reason: 'Email is suppressed' },
      ]);
      expect(standIn.people(key)).toEqual([]);
      // Reject refuses the batch for its invalid person first: the suppressed one is found on the resend.
      expect(standIn.counts()[MERGE]).toEqual({ 400: mode === 'reject' ? 2 : 1 });
    },
  );
});

describe('reading back', () => {
  it('pages person/get by cursor, 500 a page, until has_more is false', async () => {
    const c = client();
    for (let b = 0; b < 11; b++) {
      const batch = Array.from({ length: 100 }, (_, i) =>
        person(`r${b * 100 + i}@example.com`, { tags: ['seg:r'] }),
      );
      await c.mergePeople(batch, byEmail);
    }
    standIn.resetCounts();
    const seen = new Set<string>();
    for await (const p of allPeople(c, { fields: ['str::email'] })) seen.add(String(p.fields['str::email']));
    expect(seen.size).toBe(1_100);
    expect(requests(PERSON_GET)).toBe(3);
  });

  it('reads a tag’s members with the tag filter when Ortto takes it, else by scanning, never retrying a refused filter', async () => {
    const c = client();
    await c.mergePeople(
      [
        person('t1@example.com', { tags: ['seg:t'] }),
        person('t2@example.com'),
        person('t3@example.com', { tags: ['seg:t', 'seg:u'] }),
      ],
      byEmail,
    );
    const emails = async (reader: TagMemberReader, tag: string) => {
      const out: string[] = [];
      for await (const p of reader.members(tag, ['str::email'])) out.push(String(p.fields['str::email']));
      return out.sort();
    };
    standIn.configure({ tagFilter: true });
    standIn.resetCounts();
    const filtering = new TagMemberReader(c);
    expect(await emails(filtering, 'seg:t')).toEqual(['t1@example.com', 't3@example.com']);
    expect(filtering.tagFilter).toBe('works');
    expect(standIn.counts()[PERSON_GET]).toEqual({ 200: 1 });

    standIn.configure({ tagFilter: false });
    standIn.resetCounts();
    const scanning = new TagMemberReader(c);
    expect(await emails(scanning, 'seg:t')).toEqual(['t1@example.com', 't3@example.com']);
    expect(await emails(scanning, 'seg:u')).toEqual(['t3@example.com']);
    expect(scanning.tagFilter).toBe('refused');
    expect(standIn.counts()[PERSON_GET]).toEqual({ 400: 1, 200: 2 });
    expect(await emails(scanning, 'seg:none')).toEqual([]);
  });

  it('counts a tag’s people with tags/get, matching the name exactly', async () => {
    const c = client();
    await c.mergePeople(
      [
        person('c1@example.com', { tags: ['seg:1', 'seg:10'] }),
        person('c2@example.com', { tags: ['seg:10'] }),
      ],
      byEmail,
    );
    expect((await c.getTags('seg:1')).map((t) => t.name).sort()).toEqual(['seg:1', 'seg:10']);
    expect(await c.findTag('seg:1')).toMatchObject({ name: 'seg:1', count: 1 });
    expect(await c.findTag('seg:10')).toMatchObject({ count: 2 });
    expect(await c.findTag('seg:2')).toBeUndefined();
  });
});

describe('custom fields', () => {
  it('creates a field, lists it with its returned id, and merges values under that id', async () => {
    const c = client();
    expect(await c.getCustomFields()).toEqual([]);
    const plan = await c.createCustomField({ name: 'Plan', type: 'single_select', values: ['free', 'pro'] });
    const seats = await c.createCustomField({ name: 'Seats', type: 'integer' });
    expect(plan).toMatchObject({ id: 'str:cm:plan', displayType: 'single_select' });
    expect(await c.getCustomFields()).toEqual([
      { id: plan.id, name: 'Plan', displayType: 'single_select', values: ['free', 'pro'] },
      { id: seats.id, name: 'Seats', displayType: 'integer' },
    ]);
    const outcomes = await c.mergePeople(
      [
        { fields: { 'str::email': 'f1@example.com', [plan.id]: 'pro', [seats.id]: 3 } },
        { fields: { 'str::email': 'f2@example.com', [plan.id]: 'gold' } },
        { fields: { 'str::email': 'f3@example.com', [seats.id]: 2.5 } },
      ],
      byEmail,
    );
    expect(outcomes[0]?.ok).toBe(true);
    expect(outcomes[1]).toMatchObject({
      ok: false,
      reason: `failed to validate field ${plan.id}: not one of the field values`,
    });
    // Refused before sending: Ortto takes decimals ×1000 as whole numbers.
    expect(outcomes[2]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not sent: .*whole number/),
    });
    expect(standIn.personByEmail(key, 'f1@example.com')?.fields).toMatchObject({
      [plan.id]: 'pro',
      [seats.id]: 3,
    });
  });

  it('a duplicate name is a PermanentError with Ortto’s message; a select without values is refused unsent', async () => {
    const c = client();
    await c.createCustomField({ name: 'Tier', type: 'text' });
    const err = (await c
      .createCustomField({ name: 'Tier', type: 'text' })
      .catch((e: unknown) => e)) as PermanentError;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.details).toMatchObject({ status: 400, reason: 'bad_request' });
    expect(err.message).toContain('a field with this name already exists');
    await expect(c.createCustomField({ name: 'Kind', type: 'multi_select' })).rejects.toThrow(
      'values: required for multi_select',
    );
    expect(requests('POST /v1/person/custom-field/create')).toBe(2);
  });
});
