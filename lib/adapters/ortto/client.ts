import { PermanentError, ValidationError } from '#lib/domain/errors.ts';
import { expectAnswer, type MergeOutcome } from './answers.ts';
import { encodeNewField, fieldHasType, type NewCustomField, type OrttoCustomField } from './custom-fields.ts';
import type { MergeOptions, OrttoPerson } from './encoding.ts';
import { invalidResponse } from './errors.ts';
import { mergePeople } from './merge.ts';
import { type OrttoConnectionOptions, OrttoRequester } from './requester.ts';
import {
  CreatedFieldSchema,
  CustomFieldsAnswerSchema,
  PeoplePageSchema,
  TagsAnswerSchema,
} from './schemas.ts';

export { ORTTO_MAX_PAYLOAD_BYTES, ORTTO_MERGE_LIMIT } from './merge.ts';
/** Most people in one `person/get` page. */
export const ORTTO_PAGE_LIMIT = 500;

export type OrttoClientOptions = OrttoConnectionOptions;

export interface OrttoTag {
  id: string;
  name: string;
  /** How many people carry the tag. */
  count: number;
}

export interface PeopleQuery {
  /** Field ids to read; `tags` gives tag names, `u4s::t` tag ids. */
  fields: readonly string[];
  /** A person/get filter, e.g. {@link hasTagFilter}. */
  filter?: Record<string, unknown>;
  audienceId?: string;
  /** 1–500; default 500. */
  limit?: number;
}

export interface OrttoPersonRecord {
  id: string;
  fields: Record<string, unknown>;
}

/** Where the next page starts: the first page's cursor and the offset Ortto gave. */
export interface PageCursor {
  cursorId: string;
  offset: number;
}

export interface PeoplePage {
  people: OrttoPersonRecord[];
  totalMatches: number | undefined;
  /** Absent on the last page. */
  next?: PageCursor;
}

/** People carrying any of these tags (by tag id). Undocumented by Ortto: a guess it may refuse. */
export const hasTagFilter = (tagIds: readonly string[]): Record<string, unknown> => ({
  $id_set_is: { field_id: 'u4s::t', value: [...tagIds] },
});

const PEOPLE = { route: 'POST /v1/person/get' };
const TAGS = { route: 'POST /v1/tags/get' };
const FIELDS = { route: 'POST /v1/person/custom-field/get' };
const CREATE_FIELD = { route: 'POST /v1/person/custom-field/create' };

/**
 * Typed Ortto client over the shared HTTP layer. It classifies every outcome (errors.ts) and never
 * retries: the sender owns retries and the rate budget, which sees every request through the hooks.
 */
export class OrttoClient {
  private readonly http: OrttoRequester;

  constructor(options: OrttoClientOptions) {
    this.http = new OrttoRequester(options);
  }

  /**
   * `person/merge`: 1–100 people, one outcome each in input order (merge.ts). A person with a
   * consent field refuses the whole call (ValidationError, nothing sent).
   */
  mergePeople(people: readonly OrttoPerson[], options: MergeOptions): Promise<MergeOutcome[]> {
    return mergePeople(this.http, people, options);
  }

  /** `person/get`: one page, from `from` (absent: the first page, which fixes the cursor). */
  async getPeople(query: PeopleQuery, from?: PageCursor): Promise<PeoplePage> {
    const limit = query.limit ?? ORTTO_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > ORTTO_PAGE_LIMIT)
      throw new ValidationError([
        { path: 'limit', reason: `expected 1 to ${ORTTO_PAGE_LIMIT}, got ${limit}` },
      ]);
    const body = {
      limit,
      offset: from?.offset ?? 0,
      fields: [...query.fields],
      ...(from === undefined ? {} : { cursor_id: from.cursorId }),
      ...(query.filter === undefined ? {} : { filter: query.filter }),
      ...(query.audienceId === undefined ? {} : { audience_id: query.audienceId }),
    };
    const res = await this.http.post('personGet', '/person/get', JSON.stringify(body));
    const page = expectAnswer(PEOPLE, res, PeoplePageSchema, this.http.secrets);
    const people = page.contacts.map((c) => ({ id: c.id, fields: c.fields }));
    const result: PeoplePage = { people, totalMatches: page.meta?.total_matches };
    if (!page.has_more) return result;
    const offset = page.next_offset;
    if (page.cursor_id === undefined || offset === undefined || offset <= body.offset)
      throw invalidResponse(
        PEOPLE,
        res.status,
        'has_more without a cursor_id and a next_offset past this page',
      );
    return { ...result, next: { cursorId: page.cursor_id, offset } };
  }

  /** `tags/get`: tags whose name contains `q` (every tag when absent), with how many people carry each. */
  async getTags(q?: string): Promise<OrttoTag[]> {
    const res = await this.http.post('tagsGet', '/tags/get', JSON.stringify(q === undefined ? {} : { q }));
    return expectAnswer(TAGS, res, TagsAnswerSchema, this.http.secrets).map((t) => ({
      id: t.id,
      name: t.name,
      count: t.count,
    }));
  }

  /** The tag named exactly `name` (tags/get searches by substring), or undefined when none exists. */
  async findTag(name: string): Promise<OrttoTag | undefined> {
    return (await this.getTags(name)).find((t) => t.name === name);
  }

  /** `custom-field/get`: the account's custom fields. Also the cheapest harmless check of a key. */
  async getCustomFields(): Promise<OrttoCustomField[]> {
    const res = await this.http.post('customFieldGet', '/person/custom-field/get', '{}');
    return expectAnswer(FIELDS, res, CustomFieldsAnswerSchema, this.http.secrets).fields.map(({ field }) => ({
      id: field.id,
      name: field.name,
      displayType: field.display_type,
      ...(field.dic_items === undefined ? {} : { values: field.dic_items }),
    }));
  }

  /**
   * `custom-field/create`; the answer's `field_id` is what values are merged under. An answer whose
   * type is not the one asked for is a PermanentError `field_type_mismatch`.
   */
  async createCustomField(definition: NewCustomField): Promise<OrttoCustomField> {
    const body = encodeNewField(definition);
    const res = await this.http.post(
      'customFieldCreate',
      '/person/custom-field/create',
      JSON.stringify(body),
    );
    const created = expectAnswer(CREATE_FIELD, res, CreatedFieldSchema, this.http.secrets);
    const field: OrttoCustomField = {
      id: created.field_id,
      name: created.name,
      displayType: created.display_type ?? definition.type,
      ...(definition.values === undefined ? {} : { values: [...definition.values] }),
    };
    if (!fieldHasType(field, definition.type)) {
      throw new PermanentError(
        `Ortto ${CREATE_FIELD.route} created ${field.id.slice(0, 100)} as ${field.displayType.slice(0, 40)}, ` +
          `not ${definition.type}`,
        { status: res.status, reason: 'field_type_mismatch' },
      );
    }
    return field;
  }
}
