/** A tag's members one `person/get` page at a time, for the port's bookmark-shaped `listMembers`. */
import * as z from 'zod';
import { PermanentError } from '#lib/domain/errors.ts';
import type { MemberPage } from '#lib/ports/destination.ts';
import { hasTagFilter, type OrttoClient, type PeoplePage, type PeopleQuery } from './client.ts';

const FIELDS = ['str::email', 'tags'] as const;

/**
 * Where the next page starts: Ortto's cursor and offset, whether pages are read through the tag
 * filter (with the tag's id) or by scanning every person. Versioned, so a bookmark kept across a
 * deployment is refused rather than misread.
 */
const BookmarkSchema = z.strictObject({
  v: z.literal(1),
  tagId: z.string().min(1).max(200).optional(),
  cursor: z.string().min(1).max(200),
  offset: z.number().int().nonnegative(),
});
type Bookmark = z.infer<typeof BookmarkSchema>;

const MAX_BOOKMARK = 1_000;

const encodeBookmark = (b: Bookmark): string => Buffer.from(JSON.stringify(b)).toString('base64url');

const badBookmark = (why: string): PermanentError =>
  new PermanentError(`Ortto member bookmark is not one this adapter wrote: ${why}`, {
    reason: 'invalid_bookmark',
  });

const decodeBookmark = (text: string): Bookmark => {
  if (text.length > MAX_BOOKMARK) throw badBookmark(`longer than ${MAX_BOOKMARK} characters`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badBookmark('not encoded JSON');
  }
  const parsed = BookmarkSchema.safeParse(json);
  if (!parsed.success) throw badBookmark(parsed.error.issues[0]?.message ?? 'wrong shape');
  return parsed.data;
};

const memberEmails = (page: PeoplePage, tag: string): string[] =>
  page.people.flatMap((p) => {
    const { tags } = p.fields;
    const email = p.fields['str::email'];
    return Array.isArray(tags) && tags.includes(tag) && typeof email === 'string' && email !== ''
      ? [email]
      : [];
  });

/**
 * Reads a tag's members page by page. Ortto documents no "has tag" filter: the guessed one is tried,
 * and once Ortto refuses it on a first page (a 400) pages scan every person instead, for the rest
 * of this reader's life. Either way each person's own `tags` decide, so a filter Ortto silently
 * ignored cannot make a non-member a member. A scanned page may hold no member and still go on.
 */
export class TagPages {
  private filter: 'untried' | 'works' | 'refused' = 'untried';

  constructor(private readonly client: OrttoClient) {}

  async page(tag: string, bookmark?: string): Promise<MemberPage> {
    if (bookmark !== undefined) {
      const at = decodeBookmark(bookmark);
      return this.read(tag, at.tagId, { cursorId: at.cursor, offset: at.offset });
    }
    const found = await this.client.findTag(tag);
    if (found === undefined) return { emails: [] };
    if (this.filter === 'refused') return this.read(tag, undefined);
    try {
      const page = await this.read(tag, found.id);
      this.filter = 'works';
      return page;
    } catch (err) {
      const refused = err instanceof PermanentError && err.details.status === 400;
      if (!refused || this.filter === 'works') throw err;
      this.filter = 'refused';
      return this.read(tag, undefined);
    }
  }

  private async read(
    tag: string,
    tagId: string | undefined,
    from?: { cursorId: string; offset: number },
  ): Promise<MemberPage> {
    const query: PeopleQuery =
      tagId === undefined ? { fields: FIELDS } : { fields: FIELDS, filter: hasTagFilter([tagId]) };
    const page = await this.client.getPeople(query, from);
    const emails = memberEmails(page, tag);
    if (page.next === undefined) return { emails };
    const next: Bookmark = {
      v: 1,
      cursor: page.next.cursorId,
      offset: page.next.offset,
      ...(tagId === undefined ? {} : { tagId }),
    };
    return { emails, bookmark: encodeBookmark(next) };
  }
}
