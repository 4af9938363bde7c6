import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_CUSTOM_FIELDS,
  type OrttoStandIn,
  PAGE_LIMIT,
  startOrttoStandIn,
} from '#local/ortto-standin/index.ts';

interface Reply {
  status: number;
  json: unknown;
}
type Json = Record<string, unknown>;
interface Page {
  contacts: Array<{ id: string; fields: Json }>;
  meta: { total_contacts: number; total_matches: number };
  offset: number;
  next_offset: number;
  cursor_id: string;
  has_more: boolean;
}

const ID = /^[0-9a-f]{24}$/;

describe('Ortto stand-in: reads, tags, custom fields, audiences', () => {
  let api: OrttoStandIn;
  let key: string;
  const post = async (path: string, body: unknown): Promise<Reply> => {
    const response = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': key },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  const ok = async (path: string, body: unknown): Promise<unknown> => {
    const reply = await post(path, body);
    expect(reply.status).toBe(200);
    return reply.json;
  };
  const page = (body: Json): Promise<Page> => ok('/person/get', body) as Promise<Page>;
  const error = async (path: string, body: unknown): Promise<string> => {
    const reply = await post(path, body);
    expect(reply.status).toBe(400);
    return (reply.json as { error: string }).error;
  };
  /** `n` people p0..p(n-1)@x.com, in merges of 100; `tagOf` gives each its tags. */
  const seed = async (n: number, tagOf: (i: number) => string[] = () => []): Promise<void> => {
    for (let from = 0; from < n; from += 100) {
      const people = Array.from({ length: Math.min(100, n - from) }, (_, j) => ({
        fields: { 'str::email': `p${from + j}@x.com` },
        tags: tagOf(from + j),
      }));
      await ok('/person/merge', { people });
    }
  };

  beforeAll(async () => {
    api = await startOrttoStandIn({ ratePerSecond: 100_000, banThreshold: 1_000_000 });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    key = randomBytes(16).toString('hex');
    api.addKey(key);
    api.configure({ tagFilter: false });
  });

  describe('person/get', () => {
    it(`pages by cursor, ${PAGE_LIMIT} at a time, over a snapshot that people created meanwhile do not shift`, async () => {
      await seed(1_201);
      const first = await page({ limit: PAGE_LIMIT, fields: ['str::email'] });
      expect(first).toMatchObject({
        offset: 0,
        next_offset: 500,
        has_more: true,
        meta: { total_matches: 1_201 },
      });
      expect(first.cursor_id).toMatch(ID);
      await seed(50); // re-merges p0..p49: no new people
      await ok('/person/merge', { people: [{ fields: { 'str::email': 'late@x.com' } }] });
      const seen = first.contacts.map((c) => c.fields['str::email']);
      let current = first;
      while (current.has_more) {
        current = await page({
          limit: PAGE_LIMIT,
          cursor_id: first.cursor_id,
          offset: current.next_offset,
          fields: ['str::email'],
        });
        seen.push(...current.contacts.map((c) => c.fields['str::email']));
      }
      expect(current).toMatchObject({ next_offset: 1_201, has_more: false, meta: { total_contacts: 1_202 } });
      expect(new Set(seen).size).toBe(1_201);
      expect(seen).not.toContain('late@x.com');
    });

    it('defaults to 50 per page and refuses a limit above 500, a malformed cursor and an unknown one', async () => {
      await seed(60);
      expect((await page({})).contacts).toHaveLength(50);
      expect(await error('/person/get', { limit: 501 })).toBe('limit: at most 500');
      expect(await error('/person/get', { cursor_id: 'not-an-id' })).toBe('cannot unmarshal into an ID');
      expect(await error('/person/get', { cursor_id: '0'.repeat(24) })).toMatch(/^cursor_id: /);
    });

    it('returns only the fields asked for, tags as names and u4s::t as tag ids', async () => {
      await ok('/person/merge', {
        people: [{ fields: { 'str::email': 'a@x.com', 'str::first': 'A' }, tags: ['seg:1'] }],
      });
      const tagId = api.tags(key)[0]?.id;
      const { contacts } = await page({ fields: ['str::email', 'tags', 'u4s::t'] });
      expect(contacts).toEqual([
        {
          id: expect.stringMatching(ID),
          fields: { 'str::email': 'a@x.com', tags: ['seg:1'], 'u4s::t': [tagId] },
        },
      ]);
    });

    it('filters with $str::is, $has_any_value, $and and $or, and refuses an operator it does not model', async () => {
      await seed(5);
      await ok('/person/merge', { people: [{ fields: { 'str::email': 'p1@x.com', 'str::first': 'One' } }] });
      const emails = async (filter: unknown) =>
        (await page({ filter, fields: ['str::email'] })).contacts.map((c) => c.fields['str::email']);
      const is = (value: string) => ({ '$str::is': { field_id: 'str::email', value } });
      expect(await emails(is('P3@x.com'))).toEqual(['p3@x.com']);
      expect(await emails({ $has_any_value: { field_id: 'str::first' } })).toEqual(['p1@x.com']);
      expect(await emails({ $or: [is('p0@x.com'), is('p4@x.com')] })).toEqual(['p0@x.com', 'p4@x.com']);
      expect(await emails({ $and: [is('p0@x.com'), is('p4@x.com')] })).toEqual([]);
      expect(await error('/person/get', { filter: { $str_starts: { field_id: 'str::email' } } })).toMatch(
        /^filter: /,
      );
    });

    it('refuses a tag filter by default, and with tagFilter on returns exactly the tag’s people', async () => {
      await seed(10, (i) => (i % 3 === 0 ? ['seg:3'] : []));
      const tagId = api.tags(key).find((t) => t.name === 'seg:3')?.id;
      const filter = { $id_set_is: { field_id: 'u4s::t', value: [tagId] } };
      expect(await error('/person/get', { filter })).toBe('filter: tag filters are not supported');
      api.configure({ tagFilter: true });
      const found = await page({ filter, fields: ['str::email'] });
      expect(found.contacts.map((c) => c.fields['str::email'])).toEqual([
        'p0@x.com',
        'p3@x.com',
        'p6@x.com',
        'p9@x.com',
      ]);
    });

    it('lists an audience’s members by audience_id, narrowed to subscribers by audience_filter', async () => {
      await seed(4, (i) => (i < 3 ? ['seg:a'] : []));
      api.unsubscribe(key, 'p1@x.com');
      const audience = api.addAudience(key, 'Segment A', 'seg:a');
      const emails = async (body: Json) =>
        (await page({ ...body, fields: ['str::email'] })).contacts.map((c) => c.fields['str::email']);
      expect(await emails({ audience_id: audience })).toEqual(['p0@x.com', 'p1@x.com', 'p2@x.com']);
      expect(await emails({ audience_id: audience, audience_filter: 'subscribers' })).toEqual([
        'p0@x.com',
        'p2@x.com',
      ]);
      expect(await error('/person/get', { audience_id: 'f'.repeat(24) })).toBe(
        'audience_id: no such audience',
      );
    });

    it('reads people by id with person/get-by-ids, as a map keyed by id', async () => {
      await seed(2);
      const [a] = api.people(key);
      const reply = (await ok('/person/get-by-ids', {
        contact_ids: [a?.id, 'f'.repeat(24)],
        fields: ['str::email'],
      })) as Json;
      expect(reply).toEqual({
        contacts: { [a?.id ?? '']: { id: a?.id, fields: { 'str::email': 'p0@x.com' } } },
      });
    });
  });

  it('tags/get lists tags with member, subscriber and SMS counts, searched by q', async () => {
    await seed(5, (i) => (i < 3 ? ['seg:1'] : ['seg:2']));
    api.unsubscribe(key, 'p0@x.com');
    await ok('/person/merge', { people: [{ fields: { 'str::email': 'p1@x.com' }, unset_tags: ['seg:1'] }] });
    const tags = (await ok('/tags/get', { q: 'SEG:1' })) as Json[];
    expect(tags).toEqual([
      {
        id: expect.stringMatching(ID),
        name: 'seg:1',
        source: 'api',
        count: 2,
        subscribers: 1,
        sms_opted_in: 0,
        created_at: expect.any(String),
        last_used: expect.any(String),
        type: 'tag',
      },
    ]);
    expect(((await ok('/tags/get', {})) as Json[]).map((t) => [t.name, t.count])).toEqual([
      ['seg:1', 2],
      ['seg:2', 2],
    ]);
  });

  describe('custom fields', () => {
    it('creates a field with an id derived from its name and its type, and lists it', async () => {
      expect(await ok('/person/custom-field/create', { name: 'Plan Name', type: 'text' })).toEqual({
        name: 'Plan Name',
        field_id: 'str:cm:plan-name',
        display_type: 'text',
      });
      await ok('/person/custom-field/create', { name: 'Seats', type: 'integer', track_changes: true });
      await ok('/person/custom-field/create', {
        name: 'Tier',
        type: 'single_select',
        values: ['gold', 'silver'],
      });
      expect(await ok('/person/custom-field/get', {})).toEqual({
        fields: [
          {
            field: {
              id: 'str:cm:plan-name',
              name: 'Plan Name',
              display_type: 'text',
              liquid_name: 'people.custom.plan_name',
            },
            tracked_value: false,
          },
          {
            field: {
              id: 'int:cm:seats',
              name: 'Seats',
              display_type: 'integer',
              liquid_name: 'people.custom.seats',
            },
            tracked_value: true,
          },
          {
            field: {
              id: 'str:cm:tier',
              name: 'Tier',
              display_type: 'single_select',
              liquid_name: 'people.custom.tier',
              dic_items: ['gold', 'silver'],
            },
            tracked_value: false,
          },
        ],
      });
    });

    it('refuses a duplicate name, an unknown or aggregate type, and a select without values', async () => {
      await ok('/person/custom-field/create', { name: 'Plan', type: 'text' });
      expect(await error('/person/custom-field/create', { name: 'plan', type: 'text' })).toMatch(/^name: /);
      expect(await error('/person/custom-field/create', { name: 'X', type: 'colour' })).toMatch(/^type: /);
      expect(await error('/person/custom-field/create', { name: 'X', type: 'aggregate' })).toMatch(/^type: /);
      expect(await error('/person/custom-field/create', { name: 'X', type: 'multi_select' })).toMatch(
        /^values: /,
      );
      expect(api.customFields(key).map((f) => f.id)).toEqual(['str:cm:plan']);
    });

    it(`stops at ${MAX_CUSTOM_FIELDS} custom fields`, async () => {
      for (let i = 0; i < MAX_CUSTOM_FIELDS; i++)
        await ok('/person/custom-field/create', { name: `F${i}`, type: 'text' });
      expect(await error('/person/custom-field/create', { name: 'One more', type: 'text' })).toMatch(
        /maximum of 100/,
      );
    });

    it('stores merged values of custom fields and checks them against the field’s type', async () => {
      await ok('/person/custom-field/create', { name: 'Seats', type: 'integer' });
      await ok('/person/custom-field/create', { name: 'Tier', type: 'single_select', values: ['gold'] });
      const reply = (await ok('/person/merge', {
        people: [
          { fields: { 'str::email': 'a@x.com', 'int:cm:seats': 12, 'str:cm:tier': 'gold' } },
          { fields: { 'str::email': 'b@x.com', 'int:cm:seats': 1.5 } },
          { fields: { 'str::email': 'c@x.com', 'str:cm:tier': 'bronze' } },
        ],
      })) as { people: Json[] };
      expect(reply.people.map((p) => p.error ?? p.status)).toEqual([
        'created',
        'failed to validate field int:cm:seats: expected an integer (decimals are sent x1000)',
        'failed to validate field str:cm:tier: not one of the field values',
      ]);
      expect(api.personByEmail(key, 'a@x.com')?.fields).toMatchObject({
        'int:cm:seats': 12,
        'str:cm:tier': 'gold',
      });
    });
  });

  it('audiences/get answers a bare array with counts, searched by term, with the tag filter on request', async () => {
    await seed(3, (i) => (i < 2 ? ['seg:a'] : []));
    const id = api.addAudience(key, 'Segment A', 'seg:a');
    api.addAudience(key, 'Other', 'seg:b');
    const tagId = api.tags(key)[0]?.id;
    const found = (await ok('/audiences/get', { search_term: 'segment', with_filter: true })) as Json[];
    expect(found).toEqual([
      expect.objectContaining({
        id,
        name: 'Segment A',
        type: 'permanent',
        members: 2,
        subscribers: 2,
        filter: { $id_set_is: { field_id: 'u4s::t', value: [tagId] } },
      }),
    ]);
    expect(await error('/audiences/get', { limit: 41 })).toBe('limit: at most 40');
  });
});
