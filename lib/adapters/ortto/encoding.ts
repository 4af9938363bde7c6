import { ValidationError } from '#lib/domain/errors.ts';

/** A field value as `person/merge` takes it; `null` clears the field under merge strategy 2. */
export type OrttoValue =
  | string
  | number
  | boolean
  | null
  | readonly string[]
  | { readonly [k: string]: unknown };

/** One person to merge, by Ortto field id (`str::email`, `str:cm:plan`), with tags to set and unset. */
export interface OrttoPerson {
  fields: Readonly<Record<string, OrttoValue>>;
  tags?: readonly string[];
  unsetTags?: readonly string[];
}

/** The person as the request body carries it. */
export interface WirePerson {
  fields: Record<string, OrttoValue>;
  tags?: string[];
  unset_tags?: string[];
}

export interface MergeOptions {
  /** 1–3 identifying field ids, the first the main key; `str::person_id` stands alone. */
  mergeBy: readonly string[];
  /** 1 fills empty fields only, 2 (default) overwrites, 3 leaves existing people untouched. */
  mergeStrategy?: 1 | 2 | 3;
  /** Only with two or more keys: 0 (default) any key, 1 the first key with a value, 2 all keys. */
  findStrategy?: 0 | 1 | 2;
  /** Update existing people only; nobody is created (pure leavers). */
  skipNonExisting?: boolean;
  /** Stops *creating* a suppressed address; Ortto accepts only `str::email`. */
  suppressionListFieldId?: 'str::email';
}

/**
 * Email (`bol::p`) and SMS (`bol::sp`) permission. Sending `bol::p: true` re-subscribes a person who
 * unsubscribed, and `false` unsubscribes one who did not: the exporter must never write either.
 */
export const CONSENT_FIELDS: readonly string[] = ['bol::p', 'bol::sp'];

const MAX_FIELD_ID = 100;
/** Ortto's documented limits for `str` and `txt` values. */
export const MAX_STR = 255;
export const MAX_TXT = 4_000;
/** Ortto documents no tag limit; this is the stand-in's and a text field's. */
export const MAX_TAG = 255;

type Issue = { path: string; reason: string };

const isConsentField = (id: string): boolean =>
  id.length <= MAX_FIELD_ID && CONSENT_FIELDS.includes(id.trim().toLowerCase());

/** Why `value` cannot be sent as field `id`, by its type prefix; undefined when it can (or Ortto decides). */
const valueProblem = (id: string, value: OrttoValue): string | undefined => {
  if (value === null) return undefined;
  switch (id.slice(0, id.indexOf(':'))) {
    case 'str':
      if (typeof value !== 'string') return 'expected a string';
      return value.length > MAX_STR ? `longer than ${MAX_STR} characters` : undefined;
    case 'txt':
      if (typeof value !== 'string') return 'expected a string';
      return value.length > MAX_TXT ? `longer than ${MAX_TXT} characters` : undefined;
    case 'int':
      return Number.isSafeInteger(value) ? undefined : 'expected a whole number (decimals are sent ×1000)';
    case 'bol':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    default:
      return undefined;
  }
};

const tagIssues = (path: string, tags: readonly string[]): Issue[] =>
  tags.flatMap((tag, i) =>
    typeof tag !== 'string' || tag === ''
      ? [{ path: `${path}[${i}]`, reason: 'a tag must be a non-empty string' }]
      : tag.length > MAX_TAG
        ? [{ path: `${path}[${i}]`, reason: `longer than ${MAX_TAG} characters` }]
        : [],
  );

/** Throws ValidationError (path `fields.bol::p`) when the person carries a consent field. */
export const refuseConsentFields = (person: OrttoPerson): void => {
  const consent = Object.keys(person.fields).filter(isConsentField);
  if (consent.length > 0)
    throw new ValidationError(
      consent.map((id) => ({
        path: `fields.${id.slice(0, MAX_FIELD_ID)}`,
        reason: 'consent fields are never sent: they would re-subscribe or unsubscribe the person',
      })),
    );
};

/**
 * OrttoPerson → the merge entry. Throws ValidationError naming every field and tag that cannot be
 * sent, consent fields first: such a person must not reach Ortto at all.
 */
export const encodePerson = (person: OrttoPerson, mergeBy: readonly string[]): WirePerson => {
  refuseConsentFields(person);
  const issues: Issue[] = [];
  for (const [id, value] of Object.entries(person.fields)) {
    if (id.length === 0 || id.length > MAX_FIELD_ID || !id.includes(':')) {
      issues.push({ path: `fields.${id.slice(0, MAX_FIELD_ID)}`, reason: 'not an Ortto field id' });
      continue;
    }
    const problem = valueProblem(id, value);
    if (problem !== undefined) issues.push({ path: `fields.${id}`, reason: problem });
  }
  const tags = person.tags ?? [];
  const unsetTags = person.unsetTags ?? [];
  issues.push(...tagIssues('tags', tags), ...tagIssues('unsetTags', unsetTags));
  // Ortto's order between the two arrays is undefined: a tag in both would land either way.
  const unset = new Set(unsetTags);
  const both = tags.find((t) => unset.has(t));
  if (both !== undefined) issues.push({ path: 'tags', reason: 'a tag is in both tags and unsetTags' });
  const keyed = mergeBy.some((id) => {
    const v = person.fields[id];
    return typeof v === 'string' && v.trim() !== '';
  });
  if (!keyed)
    issues.push({ path: 'fields', reason: `no value for any merge_by field (${mergeBy.join(', ')})` });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    fields: { ...person.fields },
    ...(tags.length === 0 ? {} : { tags: [...tags] }),
    ...(unsetTags.length === 0 ? {} : { unset_tags: [...unsetTags] }),
  };
};

const IDENTIFIERS = new Set(['str::email', 'str::ei', 'str::person_id']);

/** The request-level part of a merge body; throws ValidationError naming each option that is wrong. */
export const encodeMergeOptions = (options: MergeOptions): Record<string, unknown> => {
  const issues: Issue[] = [];
  const { mergeBy } = options;
  if (mergeBy.length < 1 || mergeBy.length > 3)
    issues.push({ path: 'mergeBy', reason: `1 to 3 fields, got ${mergeBy.length}` });
  if (new Set(mergeBy).size !== mergeBy.length)
    issues.push({ path: 'mergeBy', reason: 'a field is repeated' });
  for (const id of mergeBy) {
    if (!IDENTIFIERS.has(id) && !(id.startsWith('str:cm:') && id.length <= MAX_FIELD_ID))
      issues.push({ path: 'mergeBy', reason: `${id.slice(0, MAX_FIELD_ID)} is not an identifying field` });
  }
  if (mergeBy.includes('str::person_id') && mergeBy.length > 1)
    issues.push({ path: 'mergeBy', reason: 'str::person_id must stand alone' });
  const { mergeStrategy = 2, findStrategy, skipNonExisting, suppressionListFieldId } = options;
  if (![1, 2, 3].includes(mergeStrategy))
    issues.push({ path: 'mergeStrategy', reason: 'expected 1, 2 or 3' });
  if (findStrategy !== undefined && ![0, 1, 2].includes(findStrategy))
    issues.push({ path: 'findStrategy', reason: 'expected 0, 1 or 2' });
  if (suppressionListFieldId !== undefined && suppressionListFieldId !== 'str::email')
    issues.push({ path: 'suppressionListFieldId', reason: 'only str::email is supported' });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    merge_by: [...mergeBy],
    merge_strategy: mergeStrategy,
    ...(findStrategy === undefined ? {} : { find_strategy: findStrategy }),
    ...(skipNonExisting === undefined ? {} : { skip_non_existing: skipNonExisting }),
    ...(suppressionListFieldId === undefined ? {} : { suppression_list_field_id: suppressionListFieldId }),
    // Synchronous on purpose: only its answer says who was created, merged or refused.
    async: false,
  };
};
