import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type {
  ContactResult,
  Destination,
  DestinationSession,
  ListRef,
  RequestHooks,
} from '#lib/ports/destination.ts';

export interface FakeDestinationOptions {
  /** Whether a bulk upsert honours the list it is asked to put contacts on. */
  bulkListMembership?: boolean;
  validKeys?: string[];
}

/**
 * An Autopilot-shaped destination in memory, priced like Autopilot, with switches for the
 * behaviours the sender must survive: 429s, transient errors, rejected contacts, a revoked key.
 */
export class InMemoryDestination implements Destination {
  readonly name = 'fake-autopilot';
  readonly costs = autopilotCosts;
  readonly contacts = new Map<string, ContactData>();
  readonly lists = new Map<string, { title: string; members: Set<string> }>();
  readonly requests: Array<{ kind: string; status: number }> = [];
  bulkListMembership: boolean;
  readonly validKeys: Set<string>;
  /** Emails the destination refuses (bulk: missing from the map; single: 400). */
  readonly rejects = new Set<string>();
  /** The next N requests answer 429 / 503. */
  throttleNext = 0;
  failNext = 0;
  private listSeq = 0;

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
    const request = async <T>(kind: string, work: () => T): Promise<T> => {
      await hooks?.beforeRequest(kind);
      let status = 200;
      try {
        if (!this.validKeys.has(apiKey)) {
          status = 401;
          throw new FatalRunError('Autopilot rejected the API key (401).', 'invalid_api_key');
        }
        if (this.throttleNext > 0) {
          this.throttleNext--;
          status = 429;
          throw new TransientError('429 Too Many Requests', { status: 429, rateLimited: true });
        }
        if (this.failNext > 0) {
          this.failNext--;
          status = 503;
          throw new TransientError('503 Service Unavailable', { status: 503 });
        }
        return work();
      } finally {
        this.requests.push({ kind, status });
        hooks?.afterResponse(kind, status, 1);
      }
    };
    const key = (email: string) => email.toLowerCase();
    const upsert = (c: ContactData): ContactResult => {
      if (this.rejects.has(key(c.email))) return { email: c.email, ok: false, reason: 'rejected' };
      const prev = this.contacts.get(key(c.email));
      this.contacts.set(key(c.email), {
        email: c.email,
        fields: { ...prev?.fields, ...c.fields },
        custom: { ...prev?.custom, ...c.custom },
      });
      return { email: c.email, ok: true };
    };
    const list = (id: string) => {
      const l = this.lists.get(id);
      if (l === undefined) throw new Error(`unknown list ${id}`);
      return l;
    };
    return {
      verify: () => request('listLists', () => undefined),
      findLists: () =>
        request('listLists', (): ListRef[] => [...this.lists].map(([id, l]) => ({ id, title: l.title }))),
      createList: (title) =>
        request('createList', (): ListRef => {
          const id = `contactlist_${++this.listSeq}`;
          this.lists.set(id, { title, members: new Set() });
          return { id, title };
        }),
      upsertMany: (contacts, listId) =>
        request(listId ? 'bulkUpsertWithList' : 'bulkUpsert', () =>
          contacts.map((c) => {
            const r = upsert(c);
            if (r.ok && listId && this.bulkListMembership) list(listId).members.add(key(c.email));
            return r;
          }),
        ),
      upsertIntoList: (contact, listId) =>
        request('upsertWithList', () => {
          const r = upsert(contact);
          if (r.ok) list(listId).members.add(key(contact.email));
          return r;
        }),
      removeFromList: (listId, email) =>
        request('listRemove', (): ContactResult => {
          list(listId).members.delete(key(email));
          return { email, ok: true };
        }),
      isMember: (listId, email) => request('membershipCheck', () => list(listId).members.has(key(email))),
    };
  }
}
