import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgent } from '#lib/adapters/http/transport.ts';
import { OrttoClient } from '#lib/adapters/ortto/client.ts';
import { OrttoDestination } from '#lib/adapters/ortto/destination.ts';
import type { ContactData, TagChanges } from '#lib/domain/contact.ts';
import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type { DestinationSession, RequestHooks } from '#lib/ports/destination.ts';
import { type OrttoStandIn, startOrttoStandIn } from '#local/ortto-standin/index.ts';

/** OrttoDestination (its sessions, membership as tags) against the Ortto stand-in over loopback. */

const MERGE = 'POST /v1/person/merge';
const PERSON_GET = 'POST /v1/person/get';
const FIELD_GET = 'POST /v1/person/custom-field/get';
const FIELD_CREATE = 'POST /v1/person/custom-field/create';

let standIn: OrttoStandIn;
let agent: HttpAgent;
let destination: OrttoDestination;
let key: string;
let answers: Array<{ kind: string; status: number }>;

const hooks: RequestHooks = {
  beforeRequest: async () => {},
  afterResponse: (kind, status) => {
    answers.push({ kind, status });
  },
};
const open = (apiKey = key): DestinationSession => destination.open(apiKey, hooks);
const requests = (route: string): number =>
  Object.values(standIn.counts()[route] ?? {}).reduce((a, b) => a + b, 0);
const tags = (set: string[], unset: string[] = [], existingOnly = false): TagChanges => ({
  set,
  unset,
  existingOnly,
});
const contact = (email: string, extra: Partial<ContactData> = {}): ContactData => ({
  email,
  fields: {},
  custom: {},
  ...extra,
});
const tagsOf = (email: string): string[] => [...(standIn.personByEmail(key, email)?.tags ?? [])].sort();
const caught = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  standIn = await startOrttoStandIn({ ratePerSecond: 100_000, seed: 7, clock: () => 0 });
  agent = createHttpAgent();
});
beforeEach(() => {
  key = randomBytes(16).toString('hex');
  standIn.addKey(key);
  standIn.configure({ mixedBatch: 'inline', tagFilter: false });
  standIn.setFaults(undefined);
  standIn.resetCounts();
  destination = new OrttoDestination({ region: 'global', baseUrl: standIn.url, agent });
  answers = [];
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

describe('upsertMany in tag mode', () => {
  it('a merge with tags and unset tags leaves each person exactly the tags of its segments', async () => {
    const s = open();
    const first = await s.upsertMany([
      contact('a@example.com', { tags: tags(['seg:1', 'seg:2']) }),
      contact('b@example.com', { tags: tags(['seg:2']) }),
      contact('c@example.com', { tags: tags(['seg:1', 'seg:3']) }),
    ]);
    expect(first.every((r) => r.ok)).toBe(true);
    const again = await s.upsertMany([
      contact('a@example.com', { tags: tags(['seg:2', 'seg:3'], ['seg:1']) }),
      contact('c@example.com', { tags: tags(['seg:1'], ['seg:3']) }),
      contact('b@example.com', { tags: tags(['seg:2']) }),
    ]);
    expect(again).toEqual([
      { email: 'a@example.com', ok: true },
      { email: 'c@example.com', ok: true },
      { email: 'b@example.com', ok: true },
    ]);
    expect(tagsOf('a@example.com')).toEqual(['seg:2', 'seg:3']);
    expect(tagsOf('b@example.com')).toEqual(['seg:2']);
    expect(tagsOf('c@example.com')).toEqual(['seg:1']);
    expect(requests(MERGE)).toBe(2);
  });

  it('existingOnly never creates anyone: pure leavers go in a merge of their own and count as done', async () => {
    const s = open();
    await s.upsertMany([contact('stay@example.com', { tags: tags(['seg:x', 'seg:y']) })]);
    standIn.resetCounts();
    const results = await s.upsertMany([
      contact('new@example.com', { tags: tags(['seg:x']) }),
      contact('stay@example.com', { tags: tags([], ['seg:x', 'seg:y'], true) }),
      contact('ghost@example.com', { tags: tags([], ['seg:x'], true) }),
    ]);
    expect(results.map((r) => [r.email, r.ok])).toEqual([
      ['new@example.com', true],
      ['stay@example.com', true],
      ['ghost@example.com', true],
    ]);
    expect(standIn.personByEmail(key, 'ghost@example.com')).toBeUndefined();
    expect(tagsOf('stay@example.com')).toEqual([]);
    expect(standIn.tagMemberEmails(key, 'seg:x')).toEqual(['new@example.com']);
    expect(requests(MERGE)).toBe(2);
    standIn.resetCounts();
    // A batch of pure leavers only is one merge.
    await s.upsertMany([contact('ghost2@example.com', { tags: tags([], ['seg:x'], true) })]);
    expect(requests(MERGE)).toBe(1);
    expect(
      standIn
        .people(key)
        .map((p) => p.fields['str::email'])
        .sort(),
    ).toEqual(['new@example.com', 'stay@example.com']);
  });

  it('a custom field is looked up and created once per account, then reused by later sessions', async () => {
    const withFields = (email: string): ContactData =>
      contact(email, {
        fields: { FirstName: 'Ann', Company: 'Acme', MailingCity: 'Perth' },
        custom: {
          Plan: { type: 'string', value: 'pro' },
          Seats: { type: 'integer', value: 12 },
          Score: { type: 'float', value: 4.25 },
          Active: { type: 'boolean', value: true },
          Renewal: { type: 'date', value: '2025-01-31T00:00:00.000Z' },
        },
        tags: tags(['seg:f']),
      });
    const first = await open().upsertMany([withFields('f1@example.com'), withFields('f2@example.com')]);
    const second = await open().upsertMany([withFields('f3@example.com')]);
    expect([...first, ...second].every((r) => r.ok)).toBe(true);
    expect(requests(FIELD_GET)).toBe(1);
    expect(requests(FIELD_CREATE)).toBe(6);
    const created = Object.fromEntries(standIn.customFields(key).map((f) => [f.name, f.type]));
    expect(created).toEqual({
      Company: 'text',
      Plan: 'text',
      Seats: 'integer',
      Score: 'decimal',
      Active: 'bool',
      Renewal: 'date',
    });
    const ids = Object.fromEntries(standIn.customFields(key).map((f) => [f.name, f.id]));
    const stored = standIn.personByEmail(key, 'f3@example.com')?.fields ?? {};
    expect(stored['str::first']).toBe('Ann');
    expect(stored['geo::city']).toEqual({ name: 'Perth' });
    expect(stored[ids.Company ?? '']).toBe('Acme');
    expect(stored[ids.Plan ?? '']).toBe('pro');
    expect(stored[ids.Seats ?? '']).toBe(12);
    expect(stored[ids.Score ?? '']).toBe(4250);
    expect(stored[ids.Active ?? '']).toBe(true);
    expect(stored[ids.Renewal ?? '']).toBe('2025-01-31T00:00:00.000Z');
    // Another destination (another execution environment) reads the fields and creates none.
    const elsewhere = new OrttoDestination({ region: 'global', baseUrl: standIn.url, agent });
    standIn.resetCounts();
    expect((await elsewhere.open(key).upsertMany([withFields('f4@example.com')]))[0]?.ok).toBe(true);
    expect([requests(FIELD_GET), requests(FIELD_CREATE)]).toEqual([1, 0]);
  });

  it('a field Ortto holds as another type fails only the contacts writing it', async () => {
    const raw = new OrttoClient({ apiKey: key, baseUrl: standIn.url, agent });
    await raw.createCustomField({ name: 'Plan', type: 'integer' });
    const results = await open().upsertMany([
      contact('clash@example.com', {
        custom: { Plan: { type: 'string', value: 'pro' } },
        tags: tags(['seg:t']),
      }),
      contact('fine@example.com', { tags: tags(['seg:t']) }),
    ]);
    expect(results[0]).toEqual({
      email: 'clash@example.com',
      ok: false,
      reason: expect.stringMatching(/"Plan" is integer, the export writes string/),
      explained: true,
    });
    expect(results[1]).toEqual({ email: 'fine@example.com', ok: true });
    expect(standIn.tagMemberEmails(key, 'seg:t')).toEqual(['fine@example.com']);
    expect(requests(FIELD_CREATE)).toBe(1);
  });

  it('never sends consent: an unsubscribed person stays unsubscribed', async () => {
    const s = open();
    await s.upsertMany([contact('u@example.com', { tags: tags(['seg:u']) })]);
    standIn.unsubscribe(key, 'u@example.com');
    await s.upsertMany([contact('u@example.com', { fields: { LastName: 'Lee' }, tags: tags(['seg:v']) })]);
    expect(standIn.personByEmail(key, 'u@example.com')?.fields['bol::p']).toBe(false);
    expect(standIn.permissionWrites(key)).toEqual([]);
  });

  it('a suppressed address is not created and fails with Ortto’s reason; the rest are written', async () => {
    standIn.suppress(key, 'sup@example.com');
    const results = await open().upsertMany([
      contact('sup@example.com', { tags: tags(['seg:s']) }),
      contact('ok@example.com', { tags: tags(['seg:s']) }),
    ]);
    expect(results).toEqual([
      { email: 'sup@example.com', ok: false, reason: 'suppressed: Email is suppressed', explained: true },
      { email: 'ok@example.com', ok: true },
    ]);
    expect(standIn.personByEmail(key, 'sup@example.com')).toBeUndefined();
  });
});

describe('failures the sender acts on', () => {
  it('a refused key is FatalRunError(invalid_api_key), on verify and on a merge', async () => {
    const revoked = randomBytes(16).toString('hex');
    standIn.addKey(revoked);
    standIn.revokeKey(revoked);
    const err = await caught(open(revoked).verify());
    expect(err).toBeInstanceOf(FatalRunError);
    expect((err as FatalRunError).reason).toBe('invalid_api_key');
    const merge = await caught(
      open(revoked).upsertMany([contact('k@example.com', { tags: tags(['seg:k']) })]),
    );
    expect((merge as FatalRunError).reason).toBe('invalid_api_key');
    await expect(open().verify()).resolves.toBeUndefined();
  });

  it('a 429 with try-in-seconds surfaces as the client reports it, and the shared hooks see it', async () => {
    standIn.setFaults({ rules: [{ kind: 'error', status: 429, tryInSeconds: 4, routes: [MERGE], max: 1 }] });
    const s = open();
    const batch = [contact('r@example.com', { tags: tags(['seg:r']) })];
    const err = await caught(s.upsertMany(batch));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).details).toEqual({ status: 429, rateLimited: true, retryAfterMs: 4_000 });
    expect(answers).toContainEqual({ kind: 'merge', status: 429 });
    expect(await s.upsertMany(batch)).toEqual([{ email: 'r@example.com', ok: true }]);
    expect(standIn.tagMemberEmails(key, 'seg:r')).toEqual(['r@example.com']);
  });

  it('an answer that leaves people out is resolved person by person, so nobody is counted wrong', async () => {
    standIn.configure({ mixedBatch: 'omit' });
    standIn.suppress(key, 'gone@example.com');
    const s = open();
    const batch = [
      contact('gone@example.com', { tags: tags(['seg:o']) }),
      contact('kept@example.com', { tags: tags(['seg:o']) }),
    ];
    const results = await s.upsertMany(batch);
    expect(results).toEqual([
      { email: 'gone@example.com', ok: false, reason: expect.stringMatching(/suppressed/), explained: true },
      { email: 'kept@example.com', ok: true },
    ]);
    expect(standIn.tagMemberEmails(key, 'seg:o')).toEqual(['kept@example.com']);
    expect(standIn.people(key)).toHaveLength(1);
    // The batch, then each of its two people alone.
    expect(standIn.counts()[MERGE]).toEqual({ 200: 2, 400: 1 });
  });

  it('a skip_non_existing merge whose answer leaves out the people it skipped counts them as done', async () => {
    standIn.configure({ skippedAnswer: 'omit' });
    const s = open();
    await s.upsertMany([contact('here@example.com', { tags: tags(['seg:s']) })]);
    standIn.resetCounts();
    const leavers = ['here@example.com', 'never@example.com', 'nobody@example.com'].map((email) =>
      contact(email, { tags: tags([], ['seg:s'], true) }),
    );
    const results = await s.upsertMany(leavers);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(standIn.tagMemberEmails(key, 'seg:s')).toEqual([]);
    expect(standIn.people(key)).toHaveLength(1);
  });
});

describe('tags as lists', () => {
  it('findLists, createList, upsertIntoList, isMember and removeFromList work on tags', async () => {
    const s = open();
    expect(await s.createList('seg:l')).toEqual({ id: 'seg:l', title: 'seg:l' });
    expect(requests('POST /v1/tags/get')).toBe(0);
    expect(
      await s.upsertIntoList(contact('m@example.com', { fields: { FirstName: 'Mo' } }), 'seg:l'),
    ).toEqual({
      email: 'm@example.com',
      ok: true,
    });
    expect(await s.findLists()).toEqual([{ id: 'seg:l', title: 'seg:l' }]);
    expect(await s.isMember('seg:l', 'm@example.com')).toBe(true);
    expect(await s.isMember('seg:l', 'nobody@example.com')).toBe(false);
    expect(await s.removeFromList('seg:l', 'm@example.com')).toEqual({ email: 'm@example.com', ok: true });
    expect(await s.isMember('seg:l', 'm@example.com')).toBe(false);
    expect(await s.removeFromList('seg:l', 'nobody@example.com')).toEqual({
      email: 'nobody@example.com',
      ok: true,
    });
    expect(standIn.personByEmail(key, 'nobody@example.com')).toBeUndefined();
  });

  it('countMembers is the count of exactly that tag, and 0 for a tag nobody carries', async () => {
    const s = open();
    await s.upsertMany([
      contact('c1@example.com', { tags: tags(['seg:1']) }),
      contact('c2@example.com', { tags: tags(['seg:1', 'seg:10']) }),
      contact('c3@example.com', { tags: tags(['seg:10']) }),
      contact('c4@example.com', { tags: tags(['seg:10']) }),
    ]);
    expect(await s.countMembers?.('seg:1')).toBe(2);
    expect(await s.countMembers?.('seg:10')).toBe(3);
    expect(await s.countMembers?.('seg:none')).toBe(0);
  });

  for (const tagFilter of [false, true]) {
    it(`listMembers pages through more than 500 tagged people (tag filter ${tagFilter ? 'on' : 'off'})`, async () => {
      standIn.configure({ tagFilter });
      const s = open();
      const members = Array.from({ length: 1_150 }, (_, i) => `p${String(i).padStart(4, '0')}@example.com`);
      const others = Array.from({ length: 60 }, (_, i) => `o${i}@example.com`);
      const all = [
        ...members.map((e) => contact(e, { tags: tags(['seg:big']) })),
        ...others.map((e) => contact(e, { tags: tags(['seg:other']) })),
      ];
      for (let i = 0; i < all.length; i += 100) await s.upsertMany(all.slice(i, i + 100));
      standIn.resetCounts();
      const read: string[] = [];
      let bookmark: string | undefined;
      let pages = 0;
      do {
        const page = await s.listMembers('seg:big', bookmark);
        read.push(...page.emails);
        bookmark = page.bookmark;
        pages++;
      } while (bookmark !== undefined);
      expect(read.sort()).toEqual(members);
      // Filtered: 1,150 people in 3 pages; scanning: 1,210 in 3 as well, after one refused try.
      expect(pages).toBe(3);
      expect(standIn.counts()[PERSON_GET]).toEqual(tagFilter ? { 200: 3 } : { 200: 3, 400: 1 });
      expect(await s.listMembers('seg:absent')).toEqual({ emails: [] });
    });
  }
});
