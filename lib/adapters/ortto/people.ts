import { PermanentError } from '#lib/domain/errors.ts';
import {
  hasTagFilter,
  type OrttoClient,
  type OrttoPersonRecord,
  type PageCursor,
  type PeopleQuery,
} from './client.ts';

/** Runs one page request, e.g. under a retry policy, so a failure re-reads only that page. */
export type PageCall = <T>(fetchPage: () => Promise<T>) => Promise<T>;
const direct: PageCall = (fetchPage) => fetchPage();

/** Every person `query` matches, following the first page's cursor one page after another. */
export async function* allPeople(
  client: OrttoClient,
  query: PeopleQuery,
  call: PageCall = direct,
): AsyncGenerator<OrttoPersonRecord, void, undefined> {
  let from: PageCursor | undefined;
  for (;;) {
    const at = from;
    const page = await call(() => client.getPeople(query, at));
    yield* page.people;
    if (page.next === undefined) return;
    from = page.next;
  }
}

const carries = (person: OrttoPersonRecord, tag: string): boolean => {
  const tags = person.fields.tags;
  return Array.isArray(tags) && tags.includes(tag);
};

/**
 * Reads the people carrying a tag. Ortto documents no "has tag" filter: the guessed one is tried
 * first, and once Ortto refuses it (a 400 on the first page) this reader scans every person instead
 * and never sends it again. Either way each person's own `tags` decide, so a filter Ortto ignored
 * silently could never make a non-member look like a member.
 */
export class TagMemberReader {
  private filter: 'untried' | 'works' | 'refused' = 'untried';

  constructor(private readonly client: OrttoClient) {}

  /** Whether the tag filter worked ('works'), was refused, or has not been tried yet. */
  get tagFilter(): 'untried' | 'works' | 'refused' {
    return this.filter;
  }

  async *members(
    tag: string,
    fields: readonly string[],
    call: PageCall = direct,
  ): AsyncGenerator<OrttoPersonRecord, void, undefined> {
    const found = await call(() => this.client.findTag(tag));
    if (found === undefined) return;
    const wanted = [...new Set([...fields, 'tags'])];
    if (this.filter !== 'refused') {
      let first = true;
      try {
        for await (const person of allPeople(
          this.client,
          { fields: wanted, filter: hasTagFilter([found.id]) },
          call,
        )) {
          first = false;
          if (carries(person, tag)) yield person;
        }
        this.filter = 'works';
        return;
      } catch (err) {
        const refused = err instanceof PermanentError && err.details.status === 400;
        if (!refused || !first || this.filter === 'works') throw err;
        this.filter = 'refused';
      }
    }
    for await (const person of allPeople(this.client, { fields: wanted }, call)) {
      if (carries(person, tag)) yield person;
    }
  }
}
