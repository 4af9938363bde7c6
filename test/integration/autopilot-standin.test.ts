import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AutopilotStandIn,
  type StandInOptions,
  startAutopilotStandIn,
} from '#local/autopilot-standin/index.ts';

interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

type Json = Record<string, unknown>;

const newKey = (): string => randomBytes(16).toString('hex');
const PERSON_ID = /^person_[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
const LIST_ID = /^contactlist_[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function call(
  standIn: AutopilotStandIn,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; rawBody?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.key !== null && options.key !== undefined) headers.autopilotapikey = options.key;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

const startedStandIns: AutopilotStandIn[] = [];

async function start(options: StandInOptions = {}): Promise<AutopilotStandIn> {
  const standIn = await startAutopilotStandIn({ ratePerSecond: 100_000, ...options });
  startedStandIns.push(standIn);
  return standIn;
}

afterAll(async () => {
  await Promise.all(startedStandIns.map((s) => s.close()));
});

describe('Autopilot stand-in: API behaviour', () => {
  let api: AutopilotStandIn;
  let key: string;
  const req = (method: string, path: string, body?: unknown): Promise<Reply> =>
    call(api, method, path, body === undefined ? { key } : { key, body });
  const upsert = async (contact: Json): Promise<string> => {
    const reply = await req('POST', '/contact', { contact });
    expect(reply.status).toBe(200);
    return (reply.json as { contact_id: string }).contact_id;
  };
  const createList = async (name: string): Promise<string> => {
    const reply = await req('POST', '/list', { name });
    expect(reply.status).toBe(200);
    return (reply.json as { list_id: string }).list_id;
  };

  beforeAll(async () => {
    api = await start();
  });

  beforeEach(() => {
    key = newKey();
    api.addKey(key);
    api.configure({ bulkListMembership: 'ignore', duplicateListNames: 'allow', membershipNotModified: true });
  });

  describe('authentication', () => {
    it('answers 400 without the autopilotapikey header, even on an unknown route', async () => {
      for (const path of ['/lists', '/no/such/route']) {
        const reply = await call(api, 'GET', path, { key: null });
        expect(reply.status).toBe(400);
        expect(reply.json).toEqual({ error: 'Bad Request', message: 'No autopilotapikey header provided.' });
        expect(reply.headers.get('content-type')).toBe('application/json');
        expect(reply.headers.get('last-modified')).toMatch(/GMT$/);
      }
    });

    it('answers 401 for an unknown key before routing', async () => {
      for (const path of ['/lists', '/no/such/route']) {
        const reply = await call(api, 'GET', path, { key: newKey() });
        expect(reply.status).toBe(401);
        expect(reply.json).toEqual({ error: 'Unauthorized', message: 'Provided autopilotapikey not valid.' });
      }
    });

    it('accepts the header name in any case', async () => {
      const response = await fetch(`${api.url}/lists`, { headers: { AutopilotApiKey: key } });
      expect(response.status).toBe(200);
    });

    it('keeps accounts apart: each key sees only its own data', async () => {
      await createList('Mine');
      const other = newKey();
      api.addKey(other);
      const reply = await call(api, 'GET', '/lists', { key: other });
      expect(reply.json).toEqual({ lists: [] });
    });

    it('a revoked key gets 401 and keeps its data; restoring it brings both back', async () => {
      await upsert({ Email: 'kept@example.com' });
      api.revokeKey(key);
      expect((await req('GET', '/contact/kept@example.com')).status).toBe(401);
      expect(api.contactByEmail(key, 'kept@example.com')).toBeDefined();
      api.restoreKey(key);
      expect((await req('GET', '/contact/kept@example.com')).status).toBe(200);
    });
  });

  describe('POST /contact', () => {
    it('creates a contact and returns the same id for the same email in any case', async () => {
      const id = await upsert({ Email: 'Ann@Example.com', FirstName: 'Ann' });
      expect(id).toMatch(PERSON_ID);
      expect(await upsert({ Email: 'ann@example.COM', LastName: 'Lee' })).toBe(id);
      expect(api.contacts(key)).toHaveLength(1);
      const stored = api.contactByEmail(key, 'ANN@example.com');
      expect(stored?.email).toBe('ann@example.COM');
      expect(stored?.fields).toMatchObject({ FirstName: 'Ann', LastName: 'Lee' });
    });

    it('creates a new contact every time when there is no Email', async () => {
      const first = await upsert({ FirstName: 'Anon' });
      const second = await upsert({ FirstName: 'Anon' });
      expect(first).not.toBe(second);
    });

    it('returns the read shape by id and by URL-encoded email', async () => {
      const listId = await createList('Customers');
      const id = await upsert({
        Email: 'a+b@x.com',
        FirstName: 'Ann',
        LastName: 'Lee',
        Company: 'Acme',
        _autopilot_list: listId,
        notify: false,
        _autopilot_session_id: 'abc',
        custom: { 'string--Plan--Name': 'pro', 'integer--Seats': 5, 'date--Renewal': '2026-01-31' },
      });
      const byEmail = await req('GET', `/contact/${encodeURIComponent('a+b@x.com')}`);
      const byId = await req('GET', `/contact/${id}`);
      expect(byEmail.status).toBe(200);
      expect(byEmail.json).toEqual(byId.json);
      const contact = byEmail.json as Json;
      expect(contact).toMatchObject({
        contact_id: id,
        Email: 'a+b@x.com',
        FirstName: 'Ann',
        LastName: 'Lee',
        Name: 'Ann Lee',
        Company: 'Acme',
        lists: [listId],
        unsubscribed: false,
      });
      expect(contact.created_at).toMatch(ISO_MS);
      expect(contact.updated_at).toMatch(ISO_MS);
      expect(contact).not.toHaveProperty('Phone');
      expect(contact).not.toHaveProperty('notify');
      expect(contact.custom_fields).toEqual([
        { kind: 'Plan Name', value: 'pro', fieldType: 'string', deleted: false },
        { kind: 'Seats', value: 5, fieldType: 'integer', deleted: false },
        { kind: 'Renewal', value: '2026-01-31T00:00:00.000Z', fieldType: 'date', deleted: false },
      ]);
    });

    it('lists every custom field ever written at GET /contacts/custom_fields', async () => {
      await upsert({ Email: 'c1@example.com', custom: { 'string--Plan--Name': 'pro' } });
      await upsert({
        Email: 'c2@example.com',
        custom: { 'boolean--UX--Interest': true, 'float--Score': 1.5 },
      });
      const reply = await req('GET', '/contacts/custom_fields');
      expect(reply.json).toEqual([
        { name: 'Plan Name', fieldType: 'string' },
        { name: 'UX Interest', fieldType: 'boolean' },
        { name: 'Score', fieldType: 'float' },
      ]);
      expect(api.customFields(key)).toEqual(reply.json);
    });

    it('rejects a bad contact with 400 and writes nothing', async () => {
      const bad: unknown[] = [
        { Email: 'no-at-sign.example.com' },
        { Email: 'x@example.com', custom: { 'integer--Seats': '5' } },
        { Email: 'x@example.com', custom: { untyped: 'value' } },
        { Email: 'x@example.com', custom: { 'money--Amount': 5 } },
        { Email: 'x@example.com', unsubscribed: 'yes' },
        { Email: 'x@example.com', FirstName: { first: 'Ann' } },
      ];
      for (const contact of bad) {
        const reply = await req('POST', '/contact', { contact });
        expect(reply.status).toBe(400);
        expect(reply.json).toMatchObject({ error: 'Bad Request', message: expect.any(String) });
      }
      expect(api.contacts(key)).toEqual([]);
      expect(api.customFields(key)).toEqual([]);
    });

    it('rejects a custom value whose type clashes with the existing field', async () => {
      await upsert({ Email: 'x@example.com', custom: { 'integer--Seats': 5 } });
      const reply = await req('POST', '/contact', {
        contact: { Email: 'y@example.com', custom: { 'string--Seats': 'x' } },
      });
      expect(reply.status).toBe(400);
    });

    it('rejects a body without a contact object, bad JSON, and a body over 1 MB', async () => {
      expect((await req('POST', '/contact', { Email: 'x@example.com' })).status).toBe(400);
      const badJson = await call(api, 'POST', '/contact', { key, rawBody: '{"contact":' });
      expect(badJson.status).toBe(400);
      expect(badJson.json).toMatchObject({ error: 'Bad Request' });
      const huge = await req('POST', '/contact', {
        contact: { Email: 'x@example.com', Company: 'x'.repeat(1_100_000) },
      });
      expect(huge.status).toBe(413);
      expect(huge.json).toMatchObject({ error: 'Payload Too Large' });
    });

    it('changes the email with _NewEmail and keeps the id', async () => {
      const id = await upsert({ Email: 'old@example.com' });
      expect(await upsert({ Email: 'old@example.com', _NewEmail: 'new@example.com' })).toBe(id);
      expect((await req('GET', '/contact/old@example.com')).status).toBe(404);
      expect((await req('GET', '/contact/new@example.com')).json).toMatchObject({ contact_id: id });
    });

    it('puts the contact on the _autopilot_list list; an unknown list is a 404 and writes nothing', async () => {
      const listId = await createList('Newsletter');
      await upsert({ Email: 'm@example.com', _autopilot_list: listId });
      expect(api.listMemberEmails(key, 'Newsletter')).toEqual(['m@example.com']);
      const reply = await req('POST', '/contact', {
        contact: { Email: 'n@example.com', _autopilot_list: 'contactlist_MISSING' },
      });
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({ error: 'Not Found', message: 'List does not exist.' });
      expect(api.contactByEmail(key, 'n@example.com')).toBeUndefined();
    });

    it('sets unsubscribed, and re-subscribes with unsubscribed: false', async () => {
      await upsert({ Email: 'u@example.com', unsubscribed: true });
      expect(api.contactByEmail(key, 'u@example.com')?.unsubscribed).toBe(true);
      await upsert({ Email: 'u@example.com', unsubscribed: false });
      expect(api.contactByEmail(key, 'u@example.com')?.unsubscribed).toBe(false);
    });
  });

  describe('POST /contacts', () => {
    const contacts = (n: number, prefix = 'bulk'): Json[] =>
      Array.from({ length: n }, (_, i) => ({ Email: `${prefix}${i}@example.com` }));

    it('accepts 100 contacts and answers ids in request order with the email map', async () => {
      const reply = await req('POST', '/contacts', { contacts: contacts(100) });
      expect(reply.status).toBe(200);
      const body = reply.json as { contact_ids: string[]; email_contact_map: Record<string, string> };
      expect(body.contact_ids).toHaveLength(100);
      for (const [i, id] of body.contact_ids.entries()) {
        expect(id).toMatch(PERSON_ID);
        expect(body.email_contact_map[`bulk${i}@example.com`]).toBe(id);
      }
      expect(api.contacts(key)).toHaveLength(100);
    });

    it('refuses 101 contacts and an empty array with a 400 error body', async () => {
      for (const n of [101, 0]) {
        const reply = await req('POST', '/contacts', { contacts: contacts(n) });
        expect(reply.status).toBe(400);
        expect(reply.json).toMatchObject({ error: 'Bad Request', message: expect.any(String) });
      }
      expect((await req('POST', '/contacts', { contacts: 'nope' })).status).toBe(400);
      expect(api.contacts(key)).toEqual([]);
    });

    it('leaves invalid items out of contact_ids and email_contact_map', async () => {
      const reply = await req('POST', '/contacts', {
        contacts: [
          { Email: 'Good1@Example.com' },
          'not an object',
          { Email: 'no-at-sign' },
          { Email: 'bad-custom@example.com', custom: { 'string--': 'x' } },
          { FirstName: 'No Email' },
          { Email: 'good2@example.com' },
        ],
      });
      const body = reply.json as { contact_ids: string[]; email_contact_map: Record<string, string> };
      expect(body.contact_ids).toHaveLength(3);
      expect(Object.keys(body.email_contact_map)).toEqual(['Good1@Example.com', 'good2@example.com']);
      expect(body.contact_ids[0]).toBe(body.email_contact_map['Good1@Example.com']);
      expect(body.contact_ids[2]).toBe(body.email_contact_map['good2@example.com']);
    });

    it('ignores _autopilot_list by default and honours it when configured', async () => {
      const listId = await createList('Bulk');
      await req('POST', '/contacts', { contacts: [{ Email: 'i@example.com', _autopilot_list: listId }] });
      expect(api.listMemberEmails(key, listId)).toEqual([]);

      api.configure({ bulkListMembership: 'honour' });
      const reply = await req('POST', '/contacts', {
        contacts: [
          { Email: 'h@example.com', _autopilot_list: listId },
          { Email: 'x@example.com', _autopilot_list: 'contactlist_MISSING' },
        ],
      });
      expect(api.listMemberEmails(key, listId)).toEqual(['h@example.com']);
      expect(Object.keys((reply.json as { email_contact_map: Json }).email_contact_map)).toEqual([
        'h@example.com',
      ]);
    });
  });

  describe('contact endpoints', () => {
    it('answers 404 for an unknown contact', async () => {
      for (const x of ['nobody@example.com', 'person_00000000-0000-4000-8000-000000000000']) {
        const reply = await req('GET', `/contact/${encodeURIComponent(x)}`);
        expect(reply.status).toBe(404);
        expect(reply.json).toEqual({ error: 'Not Found', message: 'Contact could not be found.' });
      }
    });

    it('deletes by email (200 {} by default, 204 when configured) and 404s afterwards', async () => {
      await upsert({ Email: 'd1@example.com' });
      const listId = await createList('L');
      const id = await upsert({ Email: 'd2@example.com', _autopilot_list: listId });
      const deleted = await req('DELETE', '/contact/D1%40example.com');
      expect(deleted.status).toBe(200);
      expect(deleted.json).toEqual({});
      const again = await req('DELETE', '/contact/d1%40example.com');
      expect(again.status).toBe(404);
      expect(again.json).toEqual({
        error: 'Not Found',
        message: 'Could not delete contact as contact could not be found.',
      });

      api.configure({ deleteContactStatus: 204 });
      try {
        const byId = await req('DELETE', `/contact/${id}`);
        expect(byId.status).toBe(204);
        expect(byId.text).toBe('');
      } finally {
        api.configure({ deleteContactStatus: 200 });
      }
      expect(api.lists(key)[0]?.memberIds).toEqual([]);
    });

    it('unsubscribes a contact', async () => {
      await upsert({ Email: 'u@example.com' });
      const reply = await req('POST', '/contact/u%40example.com/unsubscribe');
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({});
      expect(api.contactByEmail(key, 'u@example.com')?.unsubscribed).toBe(true);
      expect((await req('POST', '/contact/nobody%40example.com/unsubscribe')).status).toBe(404);
    });
  });

  describe('lists', () => {
    it('creates and lists lists; duplicate names are allowed by default', async () => {
      const first = await createList('Promoters');
      const second = await createList('Promoters');
      expect(first).toMatch(LIST_ID);
      expect(second).not.toBe(first);
      expect((await req('GET', '/lists')).json).toEqual({
        lists: [
          { list_id: first, title: 'Promoters' },
          { list_id: second, title: 'Promoters' },
        ],
      });
    });

    it('answers 409 for a duplicate name in conflict mode', async () => {
      api.configure({ duplicateListNames: 'conflict' });
      await createList('Once');
      const reply = await req('POST', '/list', { name: 'Once' });
      expect(reply.status).toBe(409);
      expect(reply.json).toEqual({ error: 'Conflict', message: 'A list with this name already exists.' });
      expect(api.lists(key)).toHaveLength(1);
    });

    it('refuses a missing or empty name', async () => {
      for (const body of [{}, { name: '' }, { name: '  ' }, { name: 5 }]) {
        expect((await req('POST', '/list', body)).status).toBe(400);
      }
    });
  });

  describe('list membership', () => {
    it('adds, checks and removes, answering not_modified when nothing changes', async () => {
      const listId = await createList('Members');
      const id = await upsert({ Email: 'm@example.com' });
      const path = `/list/${listId}/contact/${encodeURIComponent('m@example.com')}`;

      const absent = await req('GET', path);
      expect(absent.status).toBe(404);
      expect(absent.text).toBe('');

      expect((await req('POST', path)).json).toEqual({});
      expect((await req('POST', `/list/${listId}/contact/${id}`)).json).toEqual({ not_modified: true });
      const present = await req('GET', path);
      expect(present.status).toBe(200);
      expect(present.json).toEqual({});
      expect(api.contactByEmail(key, 'm@example.com')?.lists).toEqual([listId]);

      expect((await req('DELETE', path)).json).toEqual({});
      expect((await req('DELETE', path)).json).toEqual({ not_modified: true });
      expect((await req('GET', path)).status).toBe(404);

      api.configure({ membershipNotModified: false });
      expect((await req('DELETE', path)).json).toEqual({});
    });

    it('answers JSON 404s for an unknown contact or list', async () => {
      const listId = await createList('Members');
      await upsert({ Email: 'm@example.com' });
      for (const method of ['GET', 'POST', 'DELETE']) {
        const noContact = await req(method, `/list/${listId}/contact/nobody%40example.com`);
        expect(noContact.status).toBe(404);
        expect(noContact.json).toEqual({ error: 'Not Found', message: 'Contact could not be found.' });
        const noList = await req(method, '/list/contactlist_MISSING/contact/m%40example.com');
        expect(noList.status).toBe(404);
        expect(noList.json).toEqual({ error: 'Not Found', message: 'List does not exist.' });
      }
      expect((await req('GET', '/list/contactlist_MISSING/contacts')).json).toMatchObject({
        error: 'Not Found',
      });
    });
  });

  describe('paging', () => {
    async function readAll(first: string, next: (bookmark: string) => string): Promise<Json[]> {
      const pages: Json[] = [];
      let path: string | undefined = first;
      while (path !== undefined) {
        const reply = await req('GET', path);
        expect(reply.status).toBe(200);
        const page = reply.json as Json;
        pages.push(page);
        path = typeof page.bookmark === 'string' ? next(page.bookmark) : undefined;
        expect(pages.length).toBeLessThan(10);
      }
      return pages;
    }

    it('pages through 260 list members by bookmark without duplicates or gaps', async () => {
      const listId = await createList('Big');
      api.configure({ bulkListMembership: 'honour' });
      for (let batch = 0; batch < 3; batch += 1) {
        const items = Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          return { Email: `p${n}@example.com`, ...(n < 260 ? { _autopilot_list: listId } : {}) };
        });
        expect((await req('POST', '/contacts', { contacts: items })).status).toBe(200);
      }

      const pages = await readAll(`/list/${listId}/contacts`, (b) => `/list/${listId}/contacts/${b}`);
      expect(pages.map((p) => (p.contacts as Json[]).length)).toEqual([100, 100, 60]);
      expect(pages.map((p) => p.total_contacts)).toEqual([260, 260, 260]);
      expect(pages[2]).not.toHaveProperty('bookmark');
      const ids = pages.flatMap((p) => (p.contacts as Json[]).map((c) => c.contact_id as string));
      expect(new Set(ids).size).toBe(260);
      expect(ids).toEqual([...ids].sort());
      expect(pages[0]?.bookmark).toBe(ids[99]);
      const emails = pages.flatMap((p) => (p.contacts as Json[]).map((c) => c.Email as string));
      expect(emails.sort()).toEqual(api.listMemberEmails(key, 'Big'));
      expect((pages[0]?.contacts as Json[] | undefined)?.[0]).toMatchObject({
        lists: [listId],
        unsubscribed: false,
      });

      const all = await readAll('/contacts', (b) => `/contacts/${b}`);
      expect(all.map((p) => (p.contacts as Json[]).length)).toEqual([100, 100, 100]);
      expect(all.map((p) => p.total_contacts)).toEqual([300, 300, 300]);
      expect(all[2]).not.toHaveProperty('bookmark');
    });

    it('keeps paging order right after creates and deletes between reads', async () => {
      const items = Array.from({ length: 150 }, (_, i) => ({ Email: `w${i}@example.com` }));
      await req('POST', '/contacts', { contacts: items.slice(0, 100) });
      await req('POST', '/contacts', { contacts: items.slice(100) });
      await readAll('/contacts', (b) => `/contacts/${b}`);
      await req('POST', '/contacts', {
        contacts: [{ Email: 'late1@example.com' }, { Email: 'late2@example.com' }],
      });
      for (const i of [0, 77, 149]) await req('DELETE', `/contact/w${i}%40example.com`);

      const pages = await readAll('/contacts', (b) => `/contacts/${b}`);
      const ids = pages.flatMap((p) => (p.contacts as Json[]).map((c) => c.contact_id as string));
      expect(ids).toEqual(
        api
          .contacts(key)
          .map((c) => c.contactId)
          .sort(),
      );
      expect(ids).toHaveLength(149);
    });

    it('returns a single page without bookmark for a small account', async () => {
      await upsert({ Email: 'one@example.com' });
      const reply = await req('GET', '/contacts');
      expect(reply.json).toMatchObject({ total_contacts: 1 });
      expect(reply.json).not.toHaveProperty('bookmark');
    });
  });

  it('serves GET /account', async () => {
    const reply = await req('GET', '/account');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual(expect.any(Object));
    expect(reply.text).not.toContain(key);
  });

  it('answers 404 JSON for an unknown route or method', async () => {
    for (const [method, path] of [
      ['GET', '/nothing'],
      ['PUT', '/contact'],
      ['GET', '/contact'],
    ] as const) {
      const reply = await req(method, path);
      expect(reply.status).toBe(404);
      expect(reply.json).toMatchObject({ error: 'Not Found', message: expect.any(String) });
    }
  });
});

describe('Autopilot stand-in: counts and timeline', () => {
  it('counts requests by route template and status, with account labels and no keys', async () => {
    const key = newKey();
    const lines: string[] = [];
    const api = await start({ apiKeys: [key], log: (line) => lines.push(line) });
    const first = await call(api, 'POST', '/contact', { key, body: { contact: { Email: 'a@example.com' } } });
    const id = (first.json as { contact_id: string }).contact_id;
    await call(api, 'GET', `/contact/${id}`, { key });
    await call(api, 'GET', '/contact/a%40example.com', { key });
    await call(api, 'GET', '/contact/nobody%40example.com', { key });
    await call(api, 'GET', '/lists', { key: 'wrong' });
    await call(api, 'GET', '/zzz', { key });

    expect(api.counts()).toEqual({
      'POST /contact': { 200: 1 },
      'GET /contact/{id}': { 200: 2, 404: 1 },
      'GET /lists': { 401: 1 },
      UNKNOWN: { 404: 1 },
    });
    const timeline = api.timeline();
    expect(timeline).toHaveLength(6);
    expect(timeline[0]).toEqual({
      t: expect.any(Number),
      route: 'POST /contact',
      status: 200,
      account: 'account-1',
    });
    expect(timeline[4]).toEqual({ t: expect.any(Number), route: 'GET /lists', status: 401 });
    expect(lines).toHaveLength(6);
    expect(lines.join('\n')).not.toContain(key);
    expect(lines.join('\n')).not.toContain('a@example.com');

    api.resetCounts();
    expect(api.counts()).toEqual({});
    expect(api.timeline()).toEqual([]);
  });
});

describe('Autopilot stand-in: rate limiting', () => {
  it('answers 429 past the bucket without spending tokens, then recovers after refill', async () => {
    const key = newKey();
    // 1 r/s leaves a full second of slack for the five requests to arrive on a busy machine.
    const api = await start({ apiKeys: [key], ratePerSecond: 1, burst: 2 });
    const replies = await Promise.all(Array.from({ length: 5 }, () => call(api, 'GET', '/lists', { key })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    const throttled = replies.find((r) => r.status === 429);
    expect(throttled?.json).toEqual({
      error: 'Too Many Requests',
      message: 'You have exceeded your request rate of 1 r/s.',
    });
    expect(throttled?.headers.get('retry-after')).toBeNull();

    await sleep(1_100);
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(200);
    expect(api.counts()['GET /lists']).toEqual({ 200: 3, 429: 3 });
  });

  it('keeps one bucket per key and sends Retry-After only when configured', async () => {
    const [a, b] = [newKey(), newKey()];
    const api = await start({ apiKeys: [a, b], ratePerSecond: 0.5, burst: 1, retryAfter: true });
    expect((await call(api, 'GET', '/lists', { key: a })).status).toBe(200);
    const throttled = await call(api, 'GET', '/lists', { key: a });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^[12]$/);
    expect((await call(api, 'GET', '/lists', { key: b })).status).toBe(200);
  });
});

describe('Autopilot stand-in: fault injection', () => {
  let api: AutopilotStandIn;
  let key: string;

  beforeEach(async () => {
    key = newKey();
    api = await start({ apiKeys: [key], seed: 42 });
  });

  afterEach(async () => {
    await api.close();
  });

  it('fails every matching request with an error rate of 1.0, leaving other routes alone', async () => {
    api.setFaults({ errorRates: [{ status: 503, rate: 1, routes: ['POST /contacts'] }] });
    const failed = await call(api, 'POST', '/contacts', {
      key,
      body: { contacts: [{ Email: 'a@example.com' }] },
    });
    expect(failed.status).toBe(503);
    expect(failed.json).toMatchObject({ error: 'Service Unavailable', message: expect.any(String) });
    expect(api.contacts(key)).toEqual([]);
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(200);
  });

  it('answers the outage status inside the window and recovers when the faults are cleared', async () => {
    api.setFaults({ outages: [{ fromMs: 0, toMs: 60_000 }] });
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(503);
    api.setFaults({ outages: [{ fromMs: 0, toMs: 60_000, status: 502 }] });
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(502);
    api.setFaults({ outages: [{ fromMs: 60_000, toMs: 120_000 }] });
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(200);
    api.setFaults(undefined);
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(200);
  });

  it('resets the connection without an answer', async () => {
    api.setFaults({ resetRate: 1 });
    await expect(call(api, 'GET', '/lists', { key })).rejects.toThrow();
    expect(api.counts()['GET /lists']).toEqual({ 0: 1 });
  });

  it('holds the answer of a hanging request but performs the write', async () => {
    api.setFaults({ hangRate: 1, hangMs: 10_000 });
    const request = fetch(`${api.url}/contact`, {
      method: 'POST',
      headers: { autopilotapikey: key, 'content-type': 'application/json' },
      body: JSON.stringify({ contact: { Email: 'slow@example.com' } }),
      signal: AbortSignal.timeout(300),
    });
    await expect(request).rejects.toThrow();
    expect(api.contactByEmail(key, 'slow@example.com')).toBeDefined();
  });

  it('adds latency', async () => {
    api.setFaults({ latencyMs: { min: 150, max: 150 } });
    const started = performance.now();
    expect((await call(api, 'GET', '/lists', { key })).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('is deterministic for a given seed', async () => {
    const faults = { errorRates: [{ status: 500, rate: 0.5 }] };
    const run = async (standIn: AutopilotStandIn, apiKey: string): Promise<number[]> => {
      standIn.setFaults(faults);
      const statuses: number[] = [];
      for (let i = 0; i < 24; i += 1)
        statuses.push((await call(standIn, 'GET', '/lists', { key: apiKey })).status);
      return statuses;
    };
    const otherKey = newKey();
    const twin = await start({ apiKeys: [otherKey], seed: 42 });
    const first = await run(api, key);
    expect(await run(twin, otherKey)).toEqual(first);
    expect(await run(api, key)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500]));
  });
});

describe('Autopilot stand-in: CLI', () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  });

  function spawnCli(args: string[]): ChildProcess {
    return spawn(process.execPath, ['--import', 'tsx', 'local/autopilot-standin/cli.ts', ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  it('starts on a free port, prints the URL, serves a request and exits cleanly on SIGTERM', async () => {
    const key = newKey();
    child = spawnCli(['--port', '0', '--api-key', key, '--rate', '3']);
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: string) => {
        stdout += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/v1)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child?.once('exit', (code) => reject(new Error(`CLI exited early with ${code}`)));
    });
    expect(url).not.toMatch(/:0\/v1$/);
    expect(stdout).toContain('rate 3 r/s');

    const response = await fetch(`${url}/lists`, { headers: { autopilotapikey: key } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ lists: [] });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).not.toContain(key);
  });

  it('exits with code 2 and names the flag for a bad value', async () => {
    child = spawnCli(['--rate', 'fast']);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('--rate');
  });
});
