import {
  createServer as createHttpServer,
  Agent as HttpAgent,
  type Server as HttpServer,
  type IncomingMessage,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutopilotClient, type AutopilotClientOptions } from '#lib/adapters/autopilot/client.ts';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { type AutopilotAgent, createAutopilotAgent } from '#lib/adapters/autopilot/http.ts';
import {
  type FatalRunError,
  MAX_RETRY_AFTER_MS,
  PermanentError,
  TransientError,
} from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';

const KEY = '660f9d61d936487db0d78d546f423b43';

const recordingHooks = () => {
  const events: string[] = [];
  const statuses: number[] = [];
  const hooks: RequestHooks = {
    beforeRequest: async (kind) => {
      events.push(`before ${kind}`);
    },
    afterResponse: (kind, status) => {
      events.push(`after ${kind} ${status}`);
      statuses.push(status);
    },
  };
  return { events, statuses, hooks };
};

const caught = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

/** What the scripted server saw of one request. */
interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}
interface Reply {
  status: number;
  /** A string is sent as is, anything else as JSON. */
  data?: unknown;
  headers?: Record<string, string>;
}
/**
 * An answer; `reset`: the request was read in full, then the connection destroyed unanswered;
 * `truncate`: a 200 whose body stops half-way, then the connection destroyed.
 */
type Answer = Reply | ((seen: Seen) => Reply) | 'reset' | 'truncate';
interface Step {
  method: string;
  path: string;
  answer: Answer;
  delayMs: number;
}

/**
 * A loopback HTTP server answering scripted replies in order, each once, per method and raw path
 * (as sent, still URL-encoded). A request nothing was scripted for is answered 599 and recorded, and
 * fails the test.
 */
class ScriptedServer {
  readonly steps: Step[] = [];
  readonly unmatched: string[] = [];
  connections = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const at = this.steps.findIndex((s) => s.method === method && s.path === req.url);
      const step = at < 0 ? undefined : this.steps.splice(at, 1)[0];
      if (step === undefined) {
        this.unmatched.push(`${method} ${req.url}`);
        res.writeHead(599).end();
        return;
      }
      const answer = (): void => {
        if (step.answer === 'reset') {
          req.socket.destroy();
          return;
        }
        if (step.answer === 'truncate') {
          res.writeHead(200, { 'content-length': '100' });
          res.write('{"lists": [');
          setImmediate(() => req.socket.destroy());
          return;
        }
        const reply =
          typeof step.answer === 'function'
            ? step.answer({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
            : step.answer;
        const body = typeof reply.data === 'string' ? reply.data : JSON.stringify(reply.data ?? '');
        res.writeHead(reply.status, reply.headers).end(reply.status === 204 ? undefined : body);
      };
      if (step.delayMs === 0) answer();
      else {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          answer();
        }, step.delayMs);
        this.timers.add(timer);
      }
    });
  });

  constructor() {
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Scripts one answer to `method path`. */
  intercept(
    { path, method = 'GET' }: { path: string; method?: string },
    answer: Answer,
    { delayMs = 0 } = {},
  ): void {
    this.steps.push({ method, path, answer, delayMs });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let server: ScriptedServer;
let BASE: string;
let agent: ReturnType<typeof createAutopilotAgent>;
const reply = (status: number, data?: unknown, headers?: Record<string, string>): Reply => ({
  status,
  data,
  ...(headers === undefined ? {} : { headers }),
});
const intercept = (route: { path: string; method?: string }, answer: Answer, delay?: { delayMs: number }) =>
  server.intercept(route, answer, delay);
const client = (over: Partial<AutopilotClientOptions> = {}) =>
  new AutopilotClient({ baseUrl: BASE, apiKey: KEY, dispatcher: agent, timeoutMs: 2_000, ...over });

beforeEach(async () => {
  server = new ScriptedServer();
  BASE = `${await server.start()}/v1`;
  agent = createAutopilotAgent();
});
afterEach(async () => {
  await agent.close();
  await server.close();
  expect(server.unmatched).toEqual([]);
});

describe('requests on the wire', () => {
  it('sends the key, JSON headers and the {contact} wrapper', async () => {
    let seen: { headers: unknown; body: unknown } | undefined;
    intercept({ path: '/v1/contact', method: 'POST' }, (req) => {
      seen = { headers: req.headers, body: JSON.parse(req.body) };
      return reply(200, { contact_id: 'person_1' }, { 'content-type': 'application/json' });
    });
    const result = await client().upsertContact({ Email: 'a@example.com', FirstName: 'Ann' });
    expect(result).toEqual({ contactId: 'person_1' });
    // Header names arrive lower-cased: HTTP/1.1 names are case-insensitive.
    expect(seen?.headers).toMatchObject({
      autopilotapikey: KEY,
      accept: 'application/json',
      'content-type': 'application/json',
    });
    expect(seen?.body).toEqual({ contact: { Email: 'a@example.com', FirstName: 'Ann' } });
  });

  it('URL-encodes emails in paths', async () => {
    intercept(
      { path: '/v1/contact/a%2Bb%40example.com', method: 'GET' },
      reply(200, { contact_id: 'person_1', Email: 'a+b@example.com' }),
    );
    expect((await client().getContact('a+b@example.com'))?.email).toBe('a+b@example.com');
  });

  it('brackets every request with the hooks, reporting status 0 for a failed one', async () => {
    const { events, hooks } = recordingHooks();
    intercept({ path: '/v1/lists' }, reply(200, { lists: [] }));
    intercept({ path: '/v1/lists' }, 'reset');
    const c = client({ hooks });
    await c.listLists();
    await caught(c.listLists());
    expect(events).toEqual([
      'before listLists',
      'after listLists 200',
      'before listLists',
      'after listLists 0',
    ]);
  });
});

describe('connections', () => {
  it('one agent keeps its connection alive across sequential requests', async () => {
    for (let i = 0; i < 3; i++) intercept({ path: '/v1/lists' }, reply(200, { lists: [] }));
    const c = client();
    for (let i = 0; i < 3; i++) await c.listLists();
    expect(server.connections).toBe(1);
  });

  it('clients given the same agent share its connections', async () => {
    for (let i = 0; i < 2; i++) intercept({ path: '/v1/lists' }, reply(200, { lists: [] }));
    await client().listLists();
    await client({ apiKey: 'another-key-0123456789' }).listLists();
    expect(server.connections).toBe(1);
  });
});

describe('failures the network causes', () => {
  it('a reply slower than the deadline is a TransientError', async () => {
    const { statuses, hooks } = recordingHooks();
    intercept({ path: '/v1/lists' }, reply(200, { lists: [] }), { delayMs: 5_000 });
    const err = await caught(client({ timeoutMs: 100, hooks }).listLists());
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/timed out/);
    expect(statuses).toEqual([0]);
  });

  it('a connection reset is a TransientError', async () => {
    intercept({ path: '/v1/contacts', method: 'POST' }, 'reset');
    const err = await caught(client().bulkUpsert([{ Email: 'a@example.com' }]));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toContain('ECONNRESET');
  });

  it('an answer cut off after its headers is a TransientError reported as status 0', async () => {
    const { statuses, hooks } = recordingHooks();
    intercept({ path: '/v1/lists' }, 'truncate');
    const err = await caught(client({ hooks }).listLists());
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).not.toMatch(/timed out/);
    expect(statuses).toEqual([0]);
  });

  it('a request that cannot be built (a line break in the key) is a PermanentError and is not sent', async () => {
    const { statuses, hooks } = recordingHooks();
    const err = await caught(client({ apiKey: `${KEY}\r\nx-injected: 1`, hooks }).listLists());
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).details.reason).toBe('invalid_request');
    expect(err.message).not.toContain(KEY);
    expect(statuses).toEqual([0]);
    expect(server.connections).toBe(0);
  });

  it('a connection that never completes ends at the connect timeout, not the request deadline', async () => {
    // A socket left connecting forever: a host that drops the handshake.
    const blackHole = new HttpAgent();
    blackHole.createConnection = () => {
      const socket = new Socket();
      Object.defineProperty(socket, 'connecting', { value: true });
      return socket;
    };
    const { statuses, hooks } = recordingHooks();
    const agent = { agentFor: () => blackHole, connectTimeoutMs: 50, close: async () => {} };
    // Were the connect timeout ignored, this would end at the 20 s deadline as "timed out".
    const err = await caught(client({ dispatcher: agent, timeoutMs: 20_000, hooks }).listLists());
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toContain('ETIMEDOUT');
    expect(statuses).toEqual([0]);
    blackHole.destroy();
  });

  describe('over raw sockets', () => {
    let raw: Server | undefined;
    afterEach(async () => {
      await new Promise((r) => (raw ? raw.close(r) : r(undefined)));
      raw = undefined;
    });

    it('a server that drops the connection mid-request is a TransientError', async () => {
      raw = createServer((socket) => socket.destroy());
      await new Promise<void>((r) => raw?.listen(0, '127.0.0.1', r));
      const { port } = raw.address() as AddressInfo;
      const c = new AutopilotClient({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: KEY,
        timeoutMs: 5_000,
      });
      expect(await caught(c.listLists())).toBeInstanceOf(TransientError);
    });

    it('a refused connection is a TransientError', async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const { port } = probe.address() as AddressInfo;
      await new Promise((r) => probe.close(r));
      const c = new AutopilotClient({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: KEY,
        timeoutMs: 5_000,
      });
      const err = await caught(c.listLists());
      expect(err).toBeInstanceOf(TransientError);
      expect(err.message).toContain('ECONNREFUSED');
    });
  });
});

describe('answers the client cannot use', () => {
  it('malformed JSON on a 200 is a PermanentError', async () => {
    intercept({ path: '/v1/lists' }, reply(200, '{"lists": [', { 'content-type': 'application/json' }));
    const err = await caught(client().listLists());
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).details.reason).toBe('invalid_response');
    expect(err.message).toContain('not JSON');
  });

  it('an unexpected shape names what was wrong, not the body', async () => {
    intercept({ path: '/v1/lists' }, reply(200, { lists: [{ list_id: 42, title: 'secret-title-text' }] }));
    const err = await caught(client().listLists());
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toContain('lists.0.list_id');
    expect(err.message).not.toContain('secret-title-text');
  });

  it('a 503 with an HTML body is a TransientError with its status', async () => {
    intercept({ path: '/v1/lists' }, reply(503, '<html>busy</html>'));
    const err = await caught(client().listLists());
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).details.status).toBe(503);
  });

  it('a 429 is rate limited, with retryAfterMs only when Retry-After is sent', async () => {
    const throttled = {
      error: 'Too Many Requests',
      message: 'You have exceeded your request rate of 5 r/s.',
    };
    intercept({ path: '/v1/lists' }, reply(429, throttled));
    intercept({ path: '/v1/lists' }, reply(429, throttled, { 'retry-after': '2' }));
    const first = (await caught(client().listLists())) as TransientError;
    const second = (await caught(client().listLists())) as TransientError;
    expect(first).toBeInstanceOf(TransientError);
    expect(first.details).toEqual({ status: 429, rateLimited: true });
    expect(second.details).toEqual({ status: 429, rateLimited: true, retryAfterMs: 2000 });
  });

  it.each([
    ['3600', MAX_RETRY_AFTER_MS],
    ['99999999999999999999999999', MAX_RETRY_AFTER_MS],
    ['Fri, 31 Dec 9999 23:59:59 GMT', MAX_RETRY_AFTER_MS],
    ['60', 60_000],
    ['0.5', 500],
    ['0', 0],
  ])('a Retry-After of %j waits %d ms at most', async (value, expected) => {
    intercept({ path: '/v1/lists' }, reply(429, {}, { 'retry-after': value }));
    const err = (await caught(client().listLists())) as TransientError;
    expect(err.details).toEqual({ status: 429, rateLimited: true, retryAfterMs: expected });
  });

  it.each(['-1', 'soon', '2 seconds', '1e9', `${'9'.repeat(100)}`])(
    'a Retry-After of %j is unreadable: rate limited with no wait of its own',
    async (value) => {
      intercept({ path: '/v1/lists' }, reply(429, {}, { 'retry-after': value }));
      const err = (await caught(client().listLists())) as TransientError;
      expect(err.details).toEqual({ status: 429, rateLimited: true });
    },
  );

  it('a 401 and a missing-key 400 are fatal for the run', async () => {
    intercept(
      { path: '/v1/lists' },
      reply(401, { error: 'Unauthorized', message: 'Provided autopilotapikey not valid.' }),
    );
    intercept(
      { path: '/v1/lists' },
      reply(400, { error: 'Bad Request', message: 'No autopilotapikey header provided.' }),
    );
    expect(((await caught(client().listLists())) as FatalRunError).reason).toBe('invalid_api_key');
    expect(((await caught(client().listLists())) as FatalRunError).reason).toBe('missing_api_key');
  });
});

describe('bulkUpsert', () => {
  it('refuses 0 or more than 100 contacts without sending anything', async () => {
    const { events, hooks } = recordingHooks();
    const c = client({ hooks });
    const many = Array.from({ length: 101 }, (_, i) => ({ Email: `c${i}@example.com` }));
    for (const batch of [[], many]) {
      const err = await caught(c.bulkUpsert(batch));
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).details.reason).toBe('bulk_size');
    }
    expect(events).toEqual([]);
  });

  it('derives outcomes from email_contact_map case-insensitively, in input order', async () => {
    let sent: unknown;
    intercept({ path: '/v1/contacts', method: 'POST' }, (req) => {
      sent = JSON.parse(req.body);
      return reply(200, {
        contact_ids: ['person_A', 'person_B'],
        email_contact_map: { 'ann@example.com': 'person_A', 'bo@example.com': 'person_B' },
        _removeResultKeys: ['proposedContacts'],
      });
    });
    const outcomes = await client().bulkUpsert([
      { Email: 'Ann@Example.com' },
      { FirstName: 'No email' },
      { Email: 'cy@example.com' },
      { Email: 'bo@example.com' },
    ]);
    expect(outcomes).toEqual([
      { email: 'Ann@Example.com', ok: true, contactId: 'person_A' },
      { email: undefined, ok: false, reason: 'missing_email' },
      { email: 'cy@example.com', ok: false, reason: 'not_accepted' },
      { email: 'bo@example.com', ok: true, contactId: 'person_B' },
    ]);
    expect(sent).toEqual({
      contacts: [{ Email: 'Ann@Example.com' }, { Email: 'cy@example.com' }, { Email: 'bo@example.com' }],
    });
  });

  it('reports a list assignment as its own request kind', async () => {
    const { events, hooks } = recordingHooks();
    intercept(
      { path: '/v1/contacts', method: 'POST' },
      reply(200, { contact_ids: ['p'], email_contact_map: { 'a@example.com': 'p' } }),
    );
    await client({ hooks }).bulkUpsert([{ Email: 'a@example.com', _autopilot_list: 'contactlist_1' }]);
    expect(events[0]).toBe('before bulkUpsertWithList');
  });
});

describe('membership and deletion', () => {
  const path = '/v1/list/contactlist_1/contact/a%40example.com';

  it('isMember: 200 ⇒ true; empty 404 or unknown contact ⇒ false; unknown list ⇒ PermanentError', async () => {
    intercept({ path }, reply(200, {}));
    intercept({ path }, reply(404, ''));
    intercept({ path }, reply(404, { error: 'Not Found', message: 'Contact could not be found.' }));
    intercept({ path }, reply(404, { error: 'Not Found', message: 'List does not exist.' }));
    const c = client();
    expect(await c.isMember('contactlist_1', 'a@example.com')).toBe(true);
    expect(await c.isMember('contactlist_1', 'a@example.com')).toBe(false);
    expect(await c.isMember('contactlist_1', 'a@example.com')).toBe(false);
    const err = await caught(c.isMember('contactlist_1', 'a@example.com'));
    expect((err as PermanentError).details.reason).toBe('list_not_found');
  });

  it('add/remove report not_modified; an empty 404 on remove means nothing to remove', async () => {
    intercept({ path, method: 'POST' }, reply(200, {}));
    intercept({ path, method: 'POST' }, reply(200, { not_modified: true }));
    intercept({ path, method: 'DELETE' }, reply(200, ''));
    intercept({ path, method: 'DELETE' }, reply(404, ''));
    const c = client();
    expect(await c.addToList('contactlist_1', 'a@example.com')).toEqual({ notModified: false });
    expect(await c.addToList('contactlist_1', 'a@example.com')).toEqual({ notModified: true });
    expect(await c.removeFromList('contactlist_1', 'a@example.com')).toEqual({ notModified: false });
    expect(await c.removeFromList('contactlist_1', 'a@example.com')).toEqual({ notModified: true });
  });

  it('deleteContact accepts 200 {} and 204; getContact is null on 404', async () => {
    intercept({ path: '/v1/contact/person_1', method: 'DELETE' }, reply(200, {}));
    intercept({ path: '/v1/contact/person_2', method: 'DELETE' }, reply(204, ''));
    intercept(
      { path: '/v1/contact/person_3' },
      reply(404, { error: 'Not Found', message: 'Contact could not be found.' }),
    );
    const c = client();
    await c.deleteContact('person_1');
    await c.deleteContact('person_2');
    expect(await c.getContact('person_3')).toBeNull();
  });
});

describe('paging', () => {
  const contacts = (ids: string[]) => ids.map((id) => ({ contact_id: id, Email: `${id}@example.com` }));

  it('follows bookmarks until none is returned', async () => {
    intercept(
      { path: '/v1/list/L/contacts' },
      reply(200, { contacts: contacts(['p1', 'p2']), total_contacts: 3, bookmark: 'p2' }),
    );
    intercept(
      { path: '/v1/list/L/contacts/p2' },
      reply(200, { contacts: contacts(['p3']), total_contacts: 3 }),
    );
    const ids: string[] = [];
    for await (const c of client().allListContacts('L')) ids.push(c.contactId);
    expect(ids).toEqual(['p1', 'p2', 'p3']);
  });

  it('a repeated bookmark stops with a PermanentError instead of looping', async () => {
    intercept(
      { path: '/v1/contacts' },
      reply(200, { contacts: contacts(['p1']), total_contacts: 9, bookmark: 'p1' }),
    );
    intercept({ path: '/v1/contacts/p1' }, reply(200, { contacts: [], total_contacts: 9, bookmark: 'p1' }));
    const ids: string[] = [];
    const err = await caught(
      (async () => {
        for await (const c of client().allContacts()) ids.push(c.contactId);
      })(),
    );
    expect((err as PermanentError).details.reason).toBe('repeated_bookmark');
    expect(ids).toEqual(['p1']);
  });

  it('runs each page request through the given call, so a failed page is re-read alone', async () => {
    intercept(
      { path: '/v1/list/L/contacts' },
      reply(200, { contacts: contacts(['p1']), total_contacts: 2, bookmark: 'p1' }),
    );
    intercept({ path: '/v1/list/L/contacts/p1' }, reply(503, 'busy'));
    intercept(
      { path: '/v1/list/L/contacts/p1' },
      reply(200, { contacts: contacts(['p2']), total_contacts: 2 }),
    );
    let calls = 0;
    const retryOnce = async <T>(fetchPage: () => Promise<T>): Promise<T> => {
      calls++;
      try {
        return await fetchPage();
      } catch {
        return fetchPage();
      }
    };
    const ids: string[] = [];
    for await (const c of client().allListContacts('L', retryOnce)) ids.push(c.contactId);
    expect(ids).toEqual(['p1', 'p2']);
    expect(calls).toBe(2);
  });

  it('an unknown list answering an empty 404 is list_not_found', async () => {
    intercept({ path: '/v1/list/nope/contacts' }, reply(404, ''));
    const err = await caught(client().listListContacts('nope'));
    expect((err as PermanentError).details).toEqual({ status: 404, reason: 'list_not_found' });
  });
});

describe('AutopilotDestination session', () => {
  const session = (hooks?: RequestHooks) =>
    new AutopilotDestination({ baseUrl: BASE, dispatcher: agent, timeoutMs: 2_000 }).open(KEY, hooks);
  const data = (email: string) => ({ email, fields: {}, custom: {} });

  it('upsertIntoList: a rejected contact is a result, a 429 still throws', async () => {
    intercept(
      { path: '/v1/contact', method: 'POST' },
      reply(404, { error: 'Not Found', message: 'List does not exist.' }),
    );
    intercept(
      { path: '/v1/contact', method: 'POST' },
      reply(400, { error: 'Bad Request', message: 'Email is invalid' }),
    );
    intercept({ path: '/v1/contact', method: 'POST' }, reply(429, {}));
    const s = session();
    expect(await s.upsertIntoList(data('a@example.com'), 'L')).toEqual({
      email: 'a@example.com',
      ok: false,
      reason: 'list_not_found',
    });
    expect(await s.upsertIntoList(data('b@example.com'), 'L')).toEqual({
      email: 'b@example.com',
      ok: false,
      reason: 'Email is invalid',
    });
    expect(await caught(s.upsertIntoList(data('c@example.com'), 'L'))).toBeInstanceOf(TransientError);
  });

  it('upsertMany keeps input order and reports unencodable and unaccepted contacts', async () => {
    intercept(
      { path: '/v1/contacts', method: 'POST' },
      reply(200, { email_contact_map: { 'c@example.com': 'person_C' } }),
    );
    const results = await session().upsertMany([
      data('a@example.com'),
      { ...data('b@example.com'), custom: { Seats: { type: 'integer', value: 'many' } } },
      data('c@example.com'),
    ]);
    expect(results).toEqual([
      { email: 'a@example.com', ok: false, reason: 'not_accepted' },
      { email: 'b@example.com', ok: false, reason: 'invalid_custom_field: Seats not_an_integer' },
      { email: 'c@example.com', ok: true },
    ]);
  });

  it('removeFromList: an unknown contact is done, an unknown list is not', async () => {
    const path = '/v1/list/L/contact/a%40example.com';
    intercept(
      { path, method: 'DELETE' },
      reply(404, { error: 'Not Found', message: 'Contact could not be found.' }),
    );
    intercept(
      { path, method: 'DELETE' },
      reply(404, { error: 'Not Found', message: 'List does not exist.' }),
    );
    const s = session();
    expect(await s.removeFromList('L', 'a@example.com')).toEqual({ email: 'a@example.com', ok: true });
    expect(await s.removeFromList('L', 'a@example.com')).toEqual({
      email: 'a@example.com',
      ok: false,
      reason: 'list_not_found',
    });
  });

  it('verify surfaces a refused key as FatalRunError', async () => {
    intercept({ path: '/v1/lists' }, reply(401, { error: 'Unauthorized', message: 'nope' }));
    expect(((await caught(session().verify())) as FatalRunError).reason).toBe('invalid_api_key');
  });
});

describe('the API key never leaks', () => {
  it('appears in no message, detail, stack or serialisation of any error', async () => {
    const echo = { error: 'Bad Request', message: `autopilotapikey ${KEY} is odd for a@example.com` };
    intercept({ path: '/v1/lists' }, reply(400, echo));
    intercept({ path: '/v1/lists' }, reply(401, echo));
    intercept({ path: '/v1/lists' }, reply(429, echo));
    intercept({ path: '/v1/lists' }, reply(500, echo));
    intercept({ path: '/v1/lists' }, reply(200, `{"lists": "${KEY}"}`));
    intercept({ path: '/v1/lists' }, reply(200, `${KEY}`));
    intercept({ path: '/v1/lists' }, reply(200, { lists: [] }), { delayMs: 5_000 });
    // A connection failure whose text carries the key, as a proxy or TLS layer might word it.
    const leakyConnect = new HttpAgent();
    leakyConnect.createConnection = (_options, onCreate) => {
      onCreate?.(
        Object.assign(new Error(`socket failed for ${KEY}`), { code: 'ECONNRESET' }),
        undefined as never,
      );
      return undefined as never;
    };
    const leaky: AutopilotAgent = {
      agentFor: () => leakyConnect,
      connectTimeoutMs: 5_000,
      close: async () => {},
    };
    const c = client();
    const errors: Error[] = [];
    for (let i = 0; i < 6; i++) errors.push(await caught(c.listLists()));
    errors.push(await caught(client({ dispatcher: leaky }).listLists()));
    errors.push(await caught(client({ timeoutMs: 100 }).listLists()));
    errors.push(await caught(c.bulkUpsert([])));
    expect(errors.map((e) => e.name)).toEqual([
      'PermanentError',
      'FatalRunError',
      'TransientError',
      'TransientError',
      'PermanentError',
      'PermanentError',
      'TransientError',
      'TransientError',
      'PermanentError',
    ]);
    expect(errors[6]?.message).toContain('socket failed for [redacted]');
    for (const e of errors) {
      const everything = [
        e.message,
        String(e),
        e.stack ?? '',
        JSON.stringify(e),
        JSON.stringify({ ...e }),
      ].join('\n');
      expect(everything).not.toContain(KEY);
      expect(everything).not.toContain('a@example.com');
    }
  });
});
