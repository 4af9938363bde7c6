import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import { orttoCosts } from '#lib/adapters/ortto/cost-model.ts';
import type { OrttoRegion } from '#lib/domain/connection.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type {
  ContactResult,
  Destination,
  DestinationSession,
  ListRef,
  MemberPage,
  RequestHooks,
} from '#lib/ports/destination.ts';

export interface FakeDestinationOptions {
  /** Whether a bulk upsert honours the list it is asked to put contacts on. */
  bulkListMembership?: boolean;
  validKeys?: string[];
}

/** One request as the fake saw it, for fault rules to decide on. */
export interface FakeRequest {
  kind: string;
  /** 1-based count of requests so far (this one included). */
  n: number;
  /** The contacts the request writes or asks about. */
  emails: string[];
}

/**
 * What a fault rule makes of one request. `after: true` applies the write first and then loses the
 * answer (the client cannot tell whether it took effect).
 */
export type FakeFault =
  | { kind: 'throttle'; retryAfterMs?: number }
  | { kind: 'transient'; status?: number; after?: boolean }
  | { kind: 'permanent'; status?: number; after?: boolean };

/**
 * An Autopilot-shaped destination in memory, priced like Autopilot, with switches for the
 * behaviours the sender must survive: 429s, transient errors (before or after the write took
 * effect), permanent rejections, rejected contacts, a revoked key, and a hook run before each
 * request (tests use it to cancel or delete things mid-batch).
 */
export class InMemoryDestination implements Destination {
  readonly name = 'fake-autopilot';
  readonly costs = autopilotCosts;
  readonly membershipModes = ['list', 'field'] as const;
  readonly contacts = new Map<string, ContactData & { unsubscribed?: boolean }>();
  readonly lists = new Map<string, { title: string; members: Set<string> }>();
  readonly requests: Array<{ kind: string; status: number }> = [];
  /** Every API key a request carried (the key must never be used after its connection is gone). */
  readonly keysUsed: string[] = [];
  bulkListMembership: boolean;
  /** Members per `listMembers` page (Autopilot: 100). */
  memberPageSize = 100;
  readonly validKeys: Set<string>;
  /** Emails the destination refuses (bulk: missing from the map; single: 400). */
  readonly rejects = new Set<string>();
  /** A bulk request containing one of these emails is refused whole (400); so is a single request. */
  readonly poison = new Set<string>();
  /** The next N requests answer 429 / 503. */
  throttleNext = 0;
  failNext = 0;
  /** Retry-After (ms) carried by the throttled answers, when set. */
  retryAfterMs: number | undefined;
  /** Decides a fault for each request (after `throttleNext`/`failNext`). */
  fault: ((request: FakeRequest) => FakeFault | undefined) | undefined;
  /** Runs before each request is answered (after the rate budget granted it). */
  beforeRequest: ((request: FakeRequest) => Promise<void> | void) | undefined;
  private listSeq = 0;
  private seen = 0;

  constructor(options: FakeDestinationOptions = {}) {
    this.bulkListMembership = options.bulkListMembership ?? false;
    this.validKeys = new Set(options.validKeys ?? ['key-1']);
  }

  memberEmails(title: string): string[] {
    const list = [...this.lists.values()].find((l) => l.title === title);
    return list ? [...list.members].sort() : [];
  }

  count(kind?: string): number {
    return this.requests.filter((r) => (kind === undefined || r.kind === kind) && r.status === 200).length;
  }

  open(apiKey: string, hooks?: RequestHooks): DestinationSession {
    const request = async <T>(kind: string, emails: string[], work: () => T): Promise<T> => {
      await hooks?.beforeRequest(kind);
      const info: FakeRequest = { kind, n: ++this.seen, emails };
      await this.beforeRequest?.(info);
      this.keysUsed.push(apiKey);
      let status = 200;
      try {
        if (!this.validKeys.has(apiKey)) {
          status = 401;
          throw new FatalRunError('Autopilot rejected the API key (401).', 'invalid_api_key');
        }
        if (this.throttleNext > 0) {
          this.throttleNext--;
          status = 429;
          throw this.throttled();
        }
        if (this.failNext > 0) {
          this.failNext--;
          status = 503;
          throw new TransientError('503 Service Unavailable', { status: 503 });
        }
        if (emails.some((e) => this.poison.has(e.toLowerCase()))) {
          status = 400;
          throw new PermanentError('400 Bad Request', { status: 400, reason: 'rejected_request' });
        }
        const fault = this.fault?.(info);
        if (fault === undefined) return work();
        if (fault.kind === 'throttle') {
          status = 429;
          throw this.throttled(fault.retryAfterMs);
        }
        if (fault.kind === 'transient') {
          status = fault.status ?? 503;
          if (fault.after) work();
          throw new TransientError(`${status} (fake fault)`, { status });
        }
        status = fault.status ?? 400;
        if (fault.after) work();
        throw new PermanentError(`${status} (fake fault)`, { status, reason: `rejected_${status}` });
      } finally {
        this.requests.push({ kind, status });
        hooks?.afterResponse(kind, status, 1);
      }
    };
    const key = (email: string) => email.toLowerCase();
    const upsert = (c: ContactData): ContactResult => {
      if (this.rejects.has(key(c.email))) return { email: c.email, ok: false, reason: 'rejected' };
      const prev = this.contacts.get(key(c.email));
      // As Autopilot does: a payload carrying `unsubscribed` sets it (false re-subscribes the contact).
      const sent = (c.fields as Record<string, unknown>).unsubscribed;
      const unsubscribed = sent === undefined ? prev?.unsubscribed : sent === true;
      this.contacts.set(key(c.email), {
        email: c.email,
        fields: { ...prev?.fields, ...c.fields },
        custom: { ...prev?.custom, ...c.custom },
        ...(unsubscribed === undefined ? {} : { unsubscribed }),
      });
      return { email: c.email, ok: true };
    };
    const list = (id: string) => {
      const l = this.lists.get(id);
      if (l === undefined) throw new PermanentError(`unknown list ${id}`, { status: 404 });
      return l;
    };
    return {
      verify: () => request('listLists', [], () => undefined),
      findLists: () =>
        request('listLists', [], (): ListRef[] => [...this.lists].map(([id, l]) => ({ id, title: l.title }))),
      createList: (title) =>
        request('createList', [], (): ListRef => {
          const id = `contactlist_${++this.listSeq}`;
          this.lists.set(id, { title, members: new Set() });
          return { id, title };
        }),
      upsertMany: (contacts, listId) =>
        request(
          listId ? 'bulkUpsertWithList' : 'bulkUpsert',
          contacts.map((c) => c.email),
          () =>
            contacts.map((c) => {
              const r = upsert(c);
              if (r.ok && listId && this.bulkListMembership) list(listId).members.add(key(c.email));
              return r;
            }),
        ),
      upsertIntoList: (contact, listId) =>
        request('upsertWithList', [contact.email], () => {
          const r = upsert(contact);
          if (r.ok) list(listId).members.add(key(contact.email));
          return r;
        }),
      removeFromList: (listId, email) =>
        request('listRemove', [email], (): ContactResult => {
          list(listId).members.delete(key(email));
          return { email, ok: true };
        }),
      isMember: (listId, email) =>
        request('membershipCheck', [email], () => list(listId).members.has(key(email))),
      // The bookmark is the last address of the page, so members removed between pages skip nobody.
      listMembers: (listId, bookmark) =>
        request('listContacts', [], (): MemberPage => {
          const after = [...list(listId).members]
            .sort()
            .filter((e) => bookmark === undefined || e > bookmark);
          const emails = after.slice(0, this.memberPageSize);
          const last = emails.at(-1);
          return after.length > emails.length && last !== undefined ? { emails, bookmark: last } : { emails };
        }),
    };
  }

  private throttled(retryAfterMs = this.retryAfterMs): TransientError {
    return new TransientError('429 Too Many Requests', {
      status: 429,
      rateLimited: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

/**
 * An Ortto-typed destination for one region: priced like Ortto, keeping membership as tags, with its
 * own keys (a key of another region is refused, as Ortto answers 401 there). Its account is an
 * {@link InMemoryDestination} underneath (`account`: keys, contacts, faults); `calls` says which
 * session methods a use case asked for, so a test can tell a key check (`verify`) from a list read.
 */
export class InMemoryOrttoDestination implements Destination {
  readonly name = 'fake-ortto';
  readonly costs = orttoCosts;
  readonly membershipModes = ['tag'] as const;
  readonly account: InMemoryDestination;
  readonly calls: Array<keyof DestinationSession> = [];

  constructor(
    readonly region: OrttoRegion = 'global',
    options: FakeDestinationOptions = {},
  ) {
    this.account = new InMemoryDestination({ validKeys: [], ...options });
  }

  get validKeys(): Set<string> {
    return this.account.validKeys;
  }

  open(apiKey: string, hooks?: RequestHooks): DestinationSession {
    const session = this.account.open(apiKey, hooks);
    const seen = <K extends keyof DestinationSession>(name: K): DestinationSession[K] => {
      const method = session[name] as (...args: unknown[]) => unknown;
      return ((...args: unknown[]) => {
        this.calls.push(name);
        return method(...args);
      }) as DestinationSession[K];
    };
    return {
      verify: seen('verify'),
      findLists: seen('findLists'),
      createList: seen('createList'),
      upsertMany: seen('upsertMany'),
      upsertIntoList: seen('upsertIntoList'),
      removeFromList: seen('removeFromList'),
      isMember: seen('isMember'),
      listMembers: seen('listMembers'),
    };
  }
}
