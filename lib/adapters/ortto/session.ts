import type { ContactData } from '#lib/domain/contact.ts';
import { PermanentError, TransientError, ValidationError } from '#lib/domain/errors.ts';
import type { ContactResult, DestinationSession, ListRef, MemberPage } from '#lib/ports/destination.ts';
import { AnswerCountMismatchError, type MergeOutcome } from './answers.ts';
import type { OrttoClient } from './client.ts';
import type { OrttoCustomField } from './custom-fields.ts';
import type { MergeOptions, OrttoPerson } from './encoding.ts';
import type { AccountFields } from './field-ids.ts';
import {
  fieldKey,
  ORTTO_TYPE_OF,
  type ResolvedFields,
  toOrttoPerson,
  type WantedField,
  wantedFields,
} from './person-mapping.ts';
import { TagPages } from './tag-pages.ts';

/** Everyone is matched by email; a suppressed address is never created (docs/ortto.md#merging-people). */
const UPSERT: MergeOptions = {
  mergeBy: ['str::email'],
  mergeStrategy: 2,
  suppressionListFieldId: 'str::email',
};
/** Pure leavers: their tags come off if Ortto knows them, and nobody is created. */
const EXISTING_ONLY: MergeOptions = { ...UPSERT, skipNonExisting: true };

const MAX_REASON = 500;
/** Ortto's refusal of a field id it does not know (`failed to validate field str:cm:plan: Object not found`). */
const UNKNOWN_FIELD = /failed to validate field \S+: Object not found/;

const reasonOf = (o: Extract<MergeOutcome, { ok: false }>): string =>
  (o.reason === o.status ? o.reason : `${o.status}: ${o.reason}`).slice(0, MAX_REASON);

/**
 * One API key's session with Ortto, membership as one tag per segment (a "list" here is a tag: its
 * id and title are the tag's name). A refusal that concerns one contact (a value, a field's type,
 * Ortto's verdict on the person) is that contact's result; transient and fatal errors are thrown
 * for the sender to act on, as AutopilotSession does.
 */
export class OrttoSession implements DestinationSession {
  private readonly pages: TagPages;
  /** Fields Ortto refused to create in this session: not asked again for every retried contact. */
  private readonly refusedFields = new Map<string, string>();

  constructor(
    readonly client: OrttoClient,
    readonly fields: AccountFields,
  ) {
    this.pages = new TagPages(client);
  }

  async verify(): Promise<void> {
    this.fields.prime(await this.client.getCustomFields());
  }

  async findLists(): Promise<ListRef[]> {
    return (await this.client.getTags()).map((t) => ({ id: t.name, title: t.name }));
  }

  /** Ortto creates a tag the first time a merge sets it: nothing to send. */
  async createList(title: string): Promise<ListRef> {
    return { id: title, title };
  }

  async upsertMany(contacts: readonly ContactData[], listId?: string): Promise<ContactResult[]> {
    if (listId !== undefined)
      throw new PermanentError(
        `Ortto keeps membership as tags: upsertMany cannot put contacts on list ${listId.slice(0, 100)} ` +
          '(set contact.tags instead)',
        { reason: 'lists_not_supported' },
      );
    const results: (ContactResult | undefined)[] = contacts.map(() => undefined);
    const resolved = await this.resolveFields(contacts);
    const groups = { upsert: [] as number[], existingOnly: [] as number[] };
    const people = contacts.map((contact, i): OrttoPerson | undefined => {
      const person = toOrttoPerson(contact, resolved);
      if (Array.isArray(person)) {
        results[i] = {
          email: contact.email,
          ok: false,
          reason: person.join('; ').slice(0, MAX_REASON),
          explained: true,
        };
        return undefined;
      }
      (contact.tags?.existingOnly === true ? groups.existingOnly : groups.upsert).push(i);
      return person;
    });
    for (const [positions, options] of [
      [groups.upsert, UPSERT],
      [groups.existingOnly, EXISTING_ONLY],
    ] as const) {
      if (positions.length === 0) continue;
      const emails = positions.map((i) => contacts[i]?.email ?? '');
      const sent = await this.merge(
        emails,
        positions.flatMap((i) => people[i] ?? []),
        options,
      );
      positions.forEach((i, j) => {
        results[i] = sent[j];
      });
    }
    return results.map(
      (r, i): ContactResult => r ?? { email: contacts[i]?.email ?? '', ok: false, reason: 'not_sent' },
    );
  }

  async upsertIntoList(contact: ContactData, listId: string): Promise<ContactResult> {
    const set = [...new Set([...(contact.tags?.set ?? []), listId])];
    const unset = (contact.tags?.unset ?? []).filter((t) => t !== listId);
    const [result] = await this.upsertMany([{ ...contact, tags: { set, unset, existingOnly: false } }]);
    return result ?? { email: contact.email, ok: false, reason: 'not_answered' };
  }

  async removeFromList(listId: string, email: string): Promise<ContactResult> {
    const person = { fields: { 'str::email': email }, unsetTags: [listId] };
    const [result] = await this.merge([email], [person], EXISTING_ONLY);
    return result ?? { email, ok: false, reason: 'not_answered' };
  }

  async isMember(listId: string, email: string): Promise<boolean> {
    const page = await this.client.getPeople({
      fields: ['tags'],
      filter: { '$str::is': { field_id: 'str::email', value: email } },
      limit: 10,
    });
    return page.people.some((p) => Array.isArray(p.fields.tags) && p.fields.tags.includes(listId));
  }

  /** 500 people a page; a tag nobody carries (Ortto has no such tag) is an empty list. */
  listMembers(listId: string, bookmark?: string): Promise<MemberPage> {
    return this.pages.page(listId, bookmark);
  }

  /** `tags/get`'s count of exactly this tag; 0 when Ortto has no such tag. */
  async countMembers(listId: string): Promise<number | undefined> {
    return (await this.client.findTag(listId))?.count ?? 0;
  }

  /**
   * One merge → one result per person. A refusal of the whole request fails its people with its
   * reason. An answer with fewer entries than people sent cannot be mapped by position: Ortto may
   * leave out people it refused or (with skip_non_existing) skipped — its documentation does not
   * say. A merge with tags is idempotent, so the people are sent again one by one, where an answer
   * is either theirs or empty: empty means skipped (nothing to untag) or refused without a reason.
   * Any other mismatch is thrown as transient, and the sender sends the batch again.
   */
  private async merge(
    emails: readonly string[],
    people: readonly OrttoPerson[],
    options: MergeOptions,
  ): Promise<ContactResult[]> {
    let outcomes: MergeOutcome[];
    try {
      outcomes = await this.client.mergePeople(people, options);
    } catch (err) {
      if (err instanceof AnswerCountMismatchError && err.answered < err.sent) {
        if (err.sent > 1) return this.mergeOneByOne(emails, people, options);
        const email = emails[0] ?? '';
        return [
          options.skipNonExisting === true
            ? { email, ok: true }
            : {
                email,
                ok: false,
                reason: 'left_out_of_answer: Ortto answered nothing for this person',
                explained: true,
              },
        ];
      }
      if (!(err instanceof PermanentError)) throw err;
      const { reason, status } = err.details;
      if (reason === 'answer_count_mismatch')
        throw new TransientError(err.message, status === undefined ? {} : { status });
      const refusal = reason ?? (status === undefined ? 'rejected' : `rejected_${status}`);
      return emails.map((email) => ({ email, ok: false, reason: refusal }));
    }
    if (outcomes.some((o) => !o.ok && UNKNOWN_FIELD.test(o.reason.slice(0, MAX_REASON)))) this.fields.stale();
    return emails.map((email, j): ContactResult => {
      const o = outcomes[j];
      if (o === undefined) return { email, ok: false, reason: 'not_answered' };
      // Ortto said why: a merge of this person alone would be refused alike.
      return o.ok ? { email, ok: true } : { email, ok: false, reason: reasonOf(o), explained: true };
    });
  }

  private async mergeOneByOne(
    emails: readonly string[],
    people: readonly OrttoPerson[],
    options: MergeOptions,
  ): Promise<ContactResult[]> {
    const results: ContactResult[] = [];
    for (let j = 0; j < people.length; j++) {
      const person = people[j];
      const email = emails[j] ?? '';
      if (person === undefined) results.push({ email, ok: false, reason: 'not_sent' });
      else results.push(...(await this.merge([email], [person], options)));
    }
    return results;
  }

  /** Each custom field the batch writes → the account's field, or why it cannot be written. */
  private async resolveFields(contacts: readonly ContactData[]): Promise<ResolvedFields> {
    const wanted = new Map<string, WantedField>();
    for (const c of contacts) for (const w of wantedFields(c)) wanted.set(fieldKey(w), w);
    const resolved = new Map<string, OrttoCustomField | { refused: string }>();
    for (const [key, w] of wanted) {
      const name = w.name.toLowerCase();
      const refused = this.refusedFields.get(name);
      if (refused !== undefined) {
        resolved.set(key, { refused });
        continue;
      }
      try {
        resolved.set(key, await this.fields.field(this.client, w.name, ORTTO_TYPE_OF[w.type]));
      } catch (err) {
        // A name Ortto's create refuses before sending is as much this field's problem as a 400.
        if (!(err instanceof PermanentError) && !(err instanceof ValidationError)) throw err;
        const reason = `custom_field_refused: field "${w.name}": ${err.message.slice(0, 300)}`;
        this.refusedFields.set(name, reason);
        resolved.set(key, { refused: reason });
      }
    }
    return resolved;
  }
}
