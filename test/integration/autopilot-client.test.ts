import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AutopilotClient } from '#lib/adapters/autopilot/client.ts';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { encodeContact } from '#lib/adapters/autopilot/encoding.ts';
import { type AutopilotAgent, createAutopilotAgent } from '#lib/adapters/autopilot/http.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import { type AutopilotStandIn, startAutopilotStandIn } from '#local/autopilot-standin/index.ts';

const FAST = { ratePerSecond: 1000, burst: 1000 };

let standIn: AutopilotStandIn;
let agent: AutopilotAgent;
let keyNo = 0;

/** A fresh, empty Autopilot account per test keeps the tests independent. */
const freshKey = (): string => {
  const key = `key-${++keyNo}-0123456789abcdef`;
  standIn.addKey(key);
  return key;
};
const clientFor = (apiKey: string, hooks?: RequestHooks): AutopilotClient =>
  new AutopilotClient({
    baseUrl: standIn.url,
    apiKey,
    dispatcher: agent,
    timeoutMs: 10_000,
    ...(hooks ? { hooks } : {}),
  });
const destination = (): AutopilotDestination =>
  new AutopilotDestination({ baseUrl: standIn.url, dispatcher: agent, timeoutMs: 10_000 });
const contact = (email: string, over: Partial<ContactData> = {}): ContactData => ({
  email,
  fields: {},
  custom: {},
  ...over,
});
const emails = (n: number, prefix = 'c'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}@example.com`);
const caught = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  standIn = await startAutopilotStandIn({ apiKeys: ['k1'], ...FAST, seed: 1 });
  agent = createAutopilotAgent();
});
afterEach(() => {
  standIn.configure({ ...FAST, bulkListMembership: 'ignore' });
  standIn.setFaults(undefined);
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

describe('bulk upsert', () => {
  it('a bulk of 100 succeeds and every contact lands in Autopilot', async () => {
    const key = freshKey();
    const batch = emails(100).map((e) => encodeContact(contact(e, { fields: { FirstName: 'Bulk' } })));
    const outcomes = await clientFor(key).bulkUpsert(batch);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(standIn.contacts(key)).toHaveLength(100);
    expect(standIn.contactByEmail(key, 'c042@example.com')?.fields.FirstName).toBe('Bulk');
  });

  it('101 contacts are refused before anything is sent', async () => {
    const key = freshKey();
    standIn.resetCounts();
    const batch = emails(101).map((e) => encodeContact(contact(e)));
    const err = await caught(clientFor(key).bulkUpsert(batch));
    expect(err).toBeInstanceOf(PermanentError);
    expect(standIn.counts()['POST /contacts']).toBeUndefined();
    expect(standIn.contacts(key)).toHaveLength(0);
  });

  it('every request passes through the hooks, so one budget sees them all', async () => {
    const key = freshKey();
    standIn.resetCounts();
    const kinds: string[] = [];
    const after: number[] = [];
    const hooks: RequestHooks = {
      beforeRequest: async (kind) => {
        kinds.push(kind);
      },
      afterResponse: (_kind, status) => {
        after.push(status);
      },
    };
    const c = clientFor(key, hooks);
    const { listId } = await c.createList('Hooks');
    await c.bulkUpsert([encodeContact(contact('h@example.com'))]);
    await c.addToList(listId, 'h@example.com');
    await c.isMember(listId, 'h@example.com');
    const served = Object.values(standIn.counts()).reduce(
      (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0),
      0,
    );
    expect(kinds).toEqual(['createList', 'bulkUpsert', 'listAdd', 'membershipCheck']);
    expect(after).toEqual([200, 200, 200, 200]);
    expect(served).toBe(4);
  });
});

describe('failures', () => {
  it('a 429 storm surfaces as TransientError with rateLimited', async () => {
    const key = freshKey();
    standIn.configure({ ratePerSecond: 1, burst: 1 });
    const c = clientFor(key);
    const settled = await Promise.allSettled(Array.from({ length: 12 }, () => c.listLists()));
    const rejected = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(rejected.length).toBeGreaterThan(0);
    for (const err of rejected) {
      expect(err).toBeInstanceOf(TransientError);
      expect((err as TransientError).details).toMatchObject({ status: 429, rateLimited: true });
    }
  });

  it('a revoked key surfaces as FatalRunError(invalid_api_key)', async () => {
    const key = freshKey();
    const session = destination().open(key);
    await session.verify();
    standIn.revokeKey(key);
    const err = await caught(session.verify());
    expect(err).toBeInstanceOf(FatalRunError);
    expect((err as FatalRunError).reason).toBe('invalid_api_key');
    expect(JSON.stringify(err) + err.message).not.toContain(key);
  });

  it("a request never waits longer than the caller's time left, whatever the client's own timeout", async () => {
    // Longer than this test may take: only the caller's time left can end the request in time.
    standIn.setFaults({ rules: [{ kind: 'hang', hangMs: 300_000 }] });
    const client = new AutopilotClient({
      baseUrl: standIn.url,
      apiKey: freshKey(),
      dispatcher: agent,
      timeoutMs: 60_000,
      hooks: { beforeRequest: async () => {}, afterResponse: () => {}, timeLeftMs: () => 300 },
    });
    const error = await caught(client.listLists());
    expect(error).toBeInstanceOf(TransientError);
    // Ended by the client, not answered by the server.
    expect((error as TransientError).details.status).toBeUndefined();
    // Far less than the 30 s the agent and client would wait on their own.
  }, 10_000);

  it('outages, resets and hangs surface as TransientError', async () => {
    const key = freshKey();
    const c = clientFor(key);
    standIn.setFaults({ errorRates: [{ status: 503, rate: 1 }] });
    expect(((await caught(c.listLists())) as TransientError).details.status).toBe(503);
    standIn.setFaults({ resetRate: 1 });
    expect(await caught(c.listLists())).toBeInstanceOf(TransientError);
    standIn.setFaults({ hangRate: 1, hangMs: 3_000 });
    const impatient = new AutopilotClient({
      baseUrl: standIn.url,
      apiKey: key,
      dispatcher: agent,
      timeoutMs: 300,
    });
    const hung = await caught(impatient.listLists());
    expect(hung).toBeInstanceOf(TransientError);
    expect(hung.message).toMatch(/timed out/);
  });
});

describe('reading', () => {
  it('a list read pages through more than 250 contacts without duplicates', async () => {
    const key = freshKey();
    const c = clientFor(key);
    const { listId } = await c.createList('Big list');
    const all = emails(260, 'm');
    for (let i = 0; i < all.length; i += 100) {
      await c.bulkUpsert(all.slice(i, i + 100).map((e) => encodeContact(contact(e))));
    }
    await Promise.all(all.map((e) => c.addToList(listId, e)));
    await c.bulkUpsert([encodeContact(contact('not-on-list@example.com'))]);
    standIn.resetCounts();

    const first = await c.listListContacts(listId);
    expect(first.total).toBe(260);
    expect(first.contacts).toHaveLength(100);
    const seen: string[] = [];
    for await (const member of c.allListContacts(listId)) seen.push(member.email ?? '');
    expect(seen).toHaveLength(260);
    expect(new Set(seen).size).toBe(260);
    expect([...seen].sort()).toEqual([...all].sort());
    expect(standIn.counts()['GET /list/{id}/contacts']?.[200]).toBe(2);
    expect(standIn.counts()['GET /list/{id}/contacts/{bookmark}']?.[200]).toBe(2);

    let everyone = 0;
    for await (const _ of c.allContacts()) everyone++;
    expect(everyone).toBe(261);
  });

  it('typed custom fields round-trip through getContact and customFields', async () => {
    const key = freshKey();
    const c = clientFor(key);
    const custom: ContactData['custom'] = {
      'Plan Name': { type: 'string', value: 'pro plus' },
      Seats: { type: 'integer', value: 5 },
      'Life Time Value': { type: 'float', value: 12.5 },
      'Has Reviewed': { type: 'boolean', value: true },
      'Review Date': { type: 'date', value: '2016-11-22T00:00:00.000Z' },
    };
    const { contactId } = await c.upsertContact(
      encodeContact(
        contact('Round.Trip@example.com', { fields: { FirstName: 'Ann', Company: 'Acme' }, custom }),
      ),
    );
    const read = await c.getContact('Round.Trip@example.com');
    expect(read?.contactId).toBe(contactId);
    expect(read?.fields).toMatchObject({ FirstName: 'Ann', Company: 'Acme' });
    expect(read?.custom).toEqual(custom);
    expect(read?.createdAt).toBeInstanceOf(Date);
    expect(await c.getContact(contactId)).toEqual(read);
    const fields = await c.customFields();
    expect(fields).toEqual(
      expect.arrayContaining([
        { name: 'Plan Name', fieldType: 'string' },
        { name: 'Seats', fieldType: 'integer' },
        { name: 'Life Time Value', fieldType: 'float' },
        { name: 'Has Reviewed', fieldType: 'boolean' },
        { name: 'Review Date', fieldType: 'date' },
      ]),
    );
    expect(await c.getContact('nobody@example.com')).toBeNull();
    await c.deleteContact(contactId);
    expect(await c.getContact(contactId)).toBeNull();
  });
});

describe('membership', () => {
  it('add, check and remove, with not_modified on repeats', async () => {
    const key = freshKey();
    const c = clientFor(key);
    const { listId } = await c.createList('Members');
    await c.upsertContact(encodeContact(contact('m+1@example.com')));
    expect(await c.isMember(listId, 'm+1@example.com')).toBe(false);
    expect(await c.addToList(listId, 'm+1@example.com')).toEqual({ notModified: false });
    expect(await c.addToList(listId, 'm+1@example.com')).toEqual({ notModified: true });
    expect(await c.isMember(listId, 'm+1@example.com')).toBe(true);
    expect(standIn.listMemberEmails(key, listId)).toEqual(['m+1@example.com']);
    expect(await c.removeFromList(listId, 'm+1@example.com')).toEqual({ notModified: false });
    expect(await c.removeFromList(listId, 'm+1@example.com')).toEqual({ notModified: true });
    expect(await c.isMember(listId, 'm+1@example.com')).toBe(false);
    expect(await c.isMember(listId, 'stranger@example.com')).toBe(false);
    const unknownList = await caught(c.isMember('contactlist_NOPE', 'm+1@example.com'));
    expect((unknownList as PermanentError).details.reason).toBe('list_not_found');
  });

  it('the session finds and creates lists, and removal of an unknown contact counts as done', async () => {
    const key = freshKey();
    const session = destination().open(key);
    const list = await session.createList('Segment A');
    expect(await session.findLists()).toEqual([list]);
    expect(await session.removeFromList(list.id, 'ghost@example.com')).toEqual({
      email: 'ghost@example.com',
      ok: true,
    });
    expect(await session.removeFromList('contactlist_NOPE', 'ghost@example.com')).toEqual({
      email: 'ghost@example.com',
      ok: false,
      reason: 'list_not_found',
    });
  });

  it('upsertIntoList puts the contact on the list', async () => {
    const key = freshKey();
    const session = destination().open(key);
    const list = await session.createList('Joiners');
    const result = await session.upsertIntoList(
      contact('Joiner@example.com', { fields: { LastName: 'Lee' } }),
      list.id,
    );
    expect(result).toEqual({ email: 'Joiner@example.com', ok: true });
    expect(await session.isMember(list.id, 'Joiner@example.com')).toBe(true);
    expect(standIn.listMemberEmails(key, 'Joiners')).toEqual(['Joiner@example.com']);
    const missing = await session.upsertIntoList(contact('x@example.com'), 'contactlist_NOPE');
    expect(missing).toEqual({ email: 'x@example.com', ok: false, reason: 'list_not_found' });
  });

  it.each([
    ['honour', true],
    ['ignore', false],
  ] as const)(
    'a bulk upsert with a list, when Autopilot would %s it, gives membership: %s',
    async (mode, member) => {
      const key = freshKey();
      standIn.configure({ bulkListMembership: mode });
      const session = destination().open(key);
      const list = await session.createList(`Probe ${mode}`);
      const batch = emails(3, `probe-${mode}-`).map((e) => contact(e));
      const results = await session.upsertMany(batch, list.id);
      expect(results).toEqual(batch.map((b) => ({ email: b.email, ok: true })));
      expect(standIn.contacts(key)).toHaveLength(3);
      expect(await session.isMember(list.id, batch[0]?.email ?? '')).toBe(member);
      expect(standIn.listMemberEmails(key, list.id)).toHaveLength(member ? 3 : 0);
    },
  );
});
