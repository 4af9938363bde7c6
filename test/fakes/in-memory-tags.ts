import { orttoCosts } from '#lib/adapters/ortto/cost-model.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { FatalRunError } from '#lib/domain/errors.ts';
import type {
  ContactResult,
  Destination,
  DestinationSession,
  MemberPage,
  RequestHooks,
} from '#lib/ports/destination.ts';

/**
 * An Ortto-shaped account in memory for tag mode: people carry tags, a merge sets and unsets them
 * (pure leavers are never created), a tag's members are read back a page at a time and counted in
 * one request. Requests are recorded by the kinds the Ortto session reports (`merge`, `personGet`,
 * `tagsGet`, `customFieldGet`), so a test can tell a count from a read-back. `tag`/`untag` are edits
 * made by hand in Ortto's web app.
 */
export class InMemoryTagDestination implements Destination {
  readonly name = 'fake-ortto-tags';
  readonly costs = orttoCosts;
  readonly membershipModes = ['tag'] as const;
  /** Every person by lower-cased email, with its tags. */
  readonly people = new Map<string, Set<string>>();
  readonly requests: string[] = [];
  /** People per `listMembers` page (Ortto: 500). */
  pageSize = 500;
  /** Whether sessions can count a tag's members (off: a destination without `countMembers`). */
  counts = true;

  constructor(private readonly validKey = 'key-1') {}

  members(tag: string): string[] {
    return [...this.people].flatMap(([email, tags]) => (tags.has(tag) ? [email] : [])).sort();
  }

  /** Someone adds the tag by hand (creating the person if Ortto did not have it). */
  tag(email: string, tag: string): void {
    const tags = this.people.get(email) ?? new Set<string>();
    tags.add(tag);
    this.people.set(email, tags);
  }

  untag(email: string, tag: string): void {
    this.people.get(email)?.delete(tag);
  }

  kinds(from = 0): Record<string, number> {
    const kinds: Record<string, number> = {};
    for (const kind of this.requests.slice(from)) kinds[kind] = (kinds[kind] ?? 0) + 1;
    return kinds;
  }

  open(apiKey: string, hooks?: RequestHooks): DestinationSession {
    const request = async <T>(kind: string, work: () => T): Promise<T> => {
      await hooks?.beforeRequest(kind);
      const status = apiKey === this.validKey ? 200 : 401;
      this.requests.push(kind);
      hooks?.afterResponse(kind, status, 1);
      if (status === 401) throw new FatalRunError('Ortto rejected the API key (401).', 'invalid_api_key');
      return work();
    };
    const merge = (c: ContactData): ContactResult => {
      const key = c.email.toLowerCase();
      if (c.tags?.existingOnly === true && !this.people.has(key)) return { email: c.email, ok: true };
      const tags = this.people.get(key) ?? new Set<string>();
      for (const t of c.tags?.set ?? []) tags.add(t);
      for (const t of c.tags?.unset ?? []) tags.delete(t);
      this.people.set(key, tags);
      return { email: c.email, ok: true };
    };
    const session: DestinationSession = {
      verify: () => request('customFieldGet', () => undefined),
      findLists: () =>
        request('tagsGet', () =>
          [...new Set([...this.people.values()].flatMap((t) => [...t]))].map((t) => ({ id: t, title: t })),
        ),
      createList: async (title) => ({ id: title, title }),
      upsertMany: (contacts) => request('merge', () => contacts.map(merge)),
      upsertIntoList: (contact, tag) =>
        request('merge', () => merge({ ...contact, tags: { set: [tag], unset: [], existingOnly: false } })),
      removeFromList: (tag, email) =>
        request('merge', () =>
          merge({ email, fields: {}, custom: {}, tags: { set: [], unset: [tag], existingOnly: true } }),
        ),
      isMember: (tag, email) =>
        request('personGet', () => this.people.get(email.toLowerCase())?.has(tag) === true),
      listMembers: (tag, bookmark) =>
        request('personGet', (): MemberPage => {
          const from = bookmark === undefined ? 0 : Number(bookmark);
          const all = this.members(tag);
          const emails = all.slice(from, from + this.pageSize);
          const next = from + emails.length;
          return next < all.length ? { emails, bookmark: String(next) } : { emails };
        }),
    };
    if (this.counts) session.countMembers = (tag) => request('tagsGet', () => this.members(tag).length);
    return session;
  }
}
