/**
 * Validation of a person/merge body: the request as a whole (a 400 for the batch) and each person on
 * its own (an {status, error} entry for that person). Checks only what the body and the account's
 * field list decide; what depends on stored people is decided in merge.ts.
 */
import * as z from 'zod';
import type { Account } from './account.ts';
import { BUILT_IN_FIELDS, isEmail, valueProblem } from './fields.ts';

export const MERGE_LIMIT = 100;
/** Identifying fields accepted in merge_by besides custom text fields. */
const IDENTIFIERS = new Set(['str::email', 'str::ei', 'str::person_id']);

/** Tag limits are undocumented; the stand-in takes a tag as long as a text field. */
const MAX_TAG = 255;
const tagList = z.array(z.string().min(1, 'a tag must not be empty').max(MAX_TAG)).max(1_000);

const MergeBodySchema = z.object({
  people: z
    .array(z.unknown(), 'people: expected an array of people')
    .min(1, 'people: at least 1 person per request')
    .max(MERGE_LIMIT, `people: at most ${MERGE_LIMIT} people per request`),
  merge_by: z.array(z.string().max(100)).min(1).max(3, 'merge_by: at most 3 fields').optional(),
  merge_strategy: z
    .union([z.literal(1), z.literal(2), z.literal(3)], 'merge_strategy: expected 1, 2 or 3')
    .default(2),
  find_strategy: z
    .union([z.literal(0), z.literal(1), z.literal(2)], 'find_strategy: expected 0, 1 or 2')
    .default(0),
  async: z.boolean('async: expected true or false').default(false),
  skip_non_existing: z.boolean('skip_non_existing: expected true or false').default(false),
  suppression_list_field_id: z
    .literal('str::email', 'suppression_list_field_id: only str::email is supported')
    .optional(),
});

export interface MergeRequest {
  people: unknown[];
  mergeBy: string[];
  strategy: 1 | 2 | 3;
  findStrategy: 0 | 1 | 2;
  skipNonExisting: boolean;
  suppression: boolean;
}

export interface PersonInput {
  fields: Record<string, unknown>;
  tags: string[];
  unsetTags: string[];
  clearFields: string[];
}

const PersonSchema = z.object({
  fields: z.record(z.string().max(100), z.unknown(), 'fields: expected an object'),
  tags: tagList.optional(),
  unset_tags: tagList.optional(),
  clear_fields: z.record(z.string().max(100), z.boolean()).optional(),
  location: z.unknown().optional(),
});

const firstIssue = (error: z.ZodError): string => {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request';
  // Messages that already name their field are kept as they are.
  if (/^[a-z_]+: /.test(issue.message)) return issue.message;
  const path = issue.path.join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseMergeRequest(body: unknown, account: Account): Parsed<MergeRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: 'body: expected a JSON object' };
  const parsed = MergeBodySchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
  const b = parsed.data;
  if (b.async) {
    return { ok: false, error: 'async: async merges are not modelled by the stand-in; send async:false' };
  }
  const mergeBy = b.merge_by ?? [...account.defaultMergeBy];
  if (new Set(mergeBy).size !== mergeBy.length) return { ok: false, error: 'merge_by: a field is repeated' };
  for (const id of mergeBy) {
    const customText = id.startsWith('str:cm:') && account.fields.has(id);
    if (!IDENTIFIERS.has(id) && !customText)
      return { ok: false, error: `merge_by: ${id} is not an identifying field` };
  }
  if (mergeBy.includes('str::person_id') && mergeBy.length > 1)
    return { ok: false, error: 'merge_by: str::person_id must stand alone' };
  return {
    ok: true,
    value: {
      people: b.people,
      mergeBy,
      strategy: b.merge_strategy,
      findStrategy: b.find_strategy,
      skipNonExisting: b.skip_non_existing,
      suppression: b.suppression_list_field_id !== undefined,
    },
  };
}

const known = (account: Account, id: string): boolean => BUILT_IN_FIELDS.has(id) || account.fields.has(id);

/** One person's entry checked on its own; the error is Ortto-worded where the wording is known. */
export function parsePerson(raw: unknown, request: MergeRequest, account: Account): Parsed<PersonInput> {
  const parsed = PersonSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
  const p = parsed.data;
  for (const [id, value] of Object.entries(p.fields)) {
    if (!known(account, id)) return { ok: false, error: `failed to validate field ${id}: Object not found` };
    const select = account.fields.get(id)?.values;
    const problem =
      valueProblem(id, value) ??
      (select !== undefined && typeof value === 'string' && !select.includes(value)
        ? 'not one of the field values'
        : undefined);
    if (problem !== undefined) return { ok: false, error: `failed to validate field ${id}: ${problem}` };
  }
  const email = p.fields['str::email'];
  if (typeof email === 'string' && !isEmail(email)) return { ok: false, error: 'Email is invalid' };
  const hasKey = request.mergeBy.some((id) => {
    const v = p.fields[id];
    return typeof v === 'string' && v.trim() !== '';
  });
  if (!hasKey) return { ok: false, error: `No value for any merge_by field (${request.mergeBy.join(', ')})` };
  const tags = p.tags ?? [];
  const unsetTags = p.unset_tags ?? [];
  const both = tags.find((t) => unsetTags.includes(t));
  // Ortto's order between the two arrays is undefined, so a tag in both is refused rather than guessed.
  if (both !== undefined) return { ok: false, error: 'A tag is in both tags and unset_tags' };
  const clearFields = Object.entries(p.clear_fields ?? {})
    .filter(([, on]) => on)
    .map(([id]) => id);
  const unknownClear = clearFields.find((id) => !known(account, id));
  if (unknownClear !== undefined)
    return { ok: false, error: `failed to validate field ${unknownClear}: Object not found` };
  return { ok: true, value: { fields: p.fields, tags, unsetTags, clearFields } };
}
