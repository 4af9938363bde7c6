/**
 * POST /v1/person/get and /v1/person/get-by-ids (docs/ortto-standin.md#reading-people). Cursor paging:
 * the first page fixes the matching people (a snapshot); later pages send its cursor_id with
 * offset = next_offset and read the snapshot, so people created meanwhile never shift a page.
 */
import * as z from 'zod';
import { type Account, ID_PATTERN, newId, type Person } from './account.ts';
import { type ApiResponse, orttoError } from './http-io.ts';
import { compileFilter, type Predicate } from './person-filter.ts';
import type { StandInBehaviour } from './types.ts';

export const PAGE_LIMIT = 500;
const MAX_CURSORS = 1_000;
const fieldList = z.array(z.string().max(100)).max(200);

const GetSchema = z.object({
  limit: z.number().int().min(1).max(PAGE_LIMIT, `limit: at most ${PAGE_LIMIT}`).default(50),
  offset: z.number().int().min(0).default(0),
  cursor_id: z.string().max(100).optional(),
  fields: fieldList.optional(),
  filter: z.unknown().optional(),
  audience_id: z.string().max(100).optional(),
  audience_filter: z
    .enum([
      'subscribers',
      'unsubscribed',
      'unsubscribed-from-audience',
      'email-subscribers',
      'sms-subscribers',
    ])
    .optional(),
  sort_by_field_id: z.string().max(100).optional(),
  sort_order: z.enum(['asc', 'desc']).default('asc'),
});

const ByIdsSchema = z.object({
  contact_ids: z.array(z.string().max(100)).min(1).max(PAGE_LIMIT),
  fields: fieldList.optional(),
});

const issue = (error: z.ZodError): string => {
  const first = error.issues[0];
  if (first === undefined) return 'invalid request';
  if (/^[a-z_]+: /.test(first.message)) return first.message;
  return `${first.path.join('.') || 'body'}: ${first.message}`;
};

/** A person as person/get shows it: requested fields only ('tags' → names, 'u4s::t' → tag ids). */
function shape(account: Account, person: Person, fields: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of fields ?? [...person.fields.keys()]) {
    if (id === 'tags') out.tags = [...person.tags].sort();
    else if (id === 'u4s::t') out['u4s::t'] = [...person.tags].map((t) => account.tags.get(t)?.id).sort();
    else if (id === 'str::person_id') out[id] = person.id;
    else if (person.fields.has(id)) out[id] = person.fields.get(id);
  }
  return { id: person.id, fields: out };
}

function audiencePredicate(account: Account, id: string, narrow: string | undefined): Predicate | string {
  const audience = account.audiences.get(id);
  if (audience === undefined) return 'audience_id: no such audience';
  const member = (p: Person): boolean => p.tags.has(audience.tag);
  switch (narrow) {
    case undefined:
      return member;
    case 'subscribers':
    case 'email-subscribers':
      return (p) => member(p) && p.fields.get('bol::p') === true;
    case 'sms-subscribers':
      return (p) => member(p) && p.fields.get('bol::sp') === true;
    case 'unsubscribed':
      return (p) => member(p) && p.fields.get('bol::p') !== true;
    default:
      // Per-audience unsubscriptions are not modelled: nobody has one.
      return () => false;
  }
}

function matching(
  account: Account,
  behaviour: StandInBehaviour,
  body: z.infer<typeof GetSchema>,
): string[] | string {
  const tests: Predicate[] = [];
  if (body.filter !== undefined) {
    const compiled = compileFilter(body.filter, account, behaviour.tagFilter);
    if (!compiled.ok) return compiled.error;
    tests.push(compiled.test);
  }
  if (body.audience_id !== undefined) {
    const audience = audiencePredicate(account, body.audience_id, body.audience_filter);
    if (typeof audience === 'string') return audience;
    tests.push(audience);
  } else if (body.audience_filter !== undefined) return 'audience_filter: needs audience_id';
  const people = [...account.people.values()].filter((p) => tests.every((t) => t(p)));
  const sortBy = body.sort_by_field_id;
  if (sortBy !== undefined) {
    const key = (p: Person): string => String(p.fields.get(sortBy) ?? '');
    people.sort((a, b) => key(a).localeCompare(key(b)));
    if (body.sort_order === 'desc') people.reverse();
  }
  return people.map((p) => p.id);
}

export function handlePersonGet(account: Account, behaviour: StandInBehaviour, raw: unknown): ApiResponse {
  const parsed = GetSchema.safeParse(raw);
  if (!parsed.success) return orttoError(400, issue(parsed.error));
  const body = parsed.data;
  let cursorId = body.cursor_id;
  let ids: string[];
  if (cursorId !== undefined) {
    if (!ID_PATTERN.test(cursorId)) return orttoError(400, 'cannot unmarshal into an ID');
    const snapshot = account.cursors.get(cursorId);
    if (snapshot === undefined) return orttoError(400, 'cursor_id: unknown or expired cursor');
    ids = snapshot;
  } else {
    const found = matching(account, behaviour, body);
    if (typeof found === 'string') return orttoError(400, found);
    ids = found;
    cursorId = newId();
    account.cursors.set(cursorId, ids);
    // Old cursors expire, so a long-running stand-in does not keep every snapshot.
    const oldest = account.cursors.keys().next().value;
    if (account.cursors.size > MAX_CURSORS && oldest !== undefined) account.cursors.delete(oldest);
  }
  const page = ids.slice(body.offset, body.offset + body.limit);
  const contacts = page.flatMap((id) => {
    const person = account.people.get(id);
    return person === undefined ? [] : [shape(account, person, body.fields)];
  });
  const nextOffset = body.offset + page.length;
  return {
    status: 200,
    body: {
      contacts,
      meta: { total_contacts: account.people.size, total_matches: ids.length },
      offset: body.offset,
      next_offset: nextOffset,
      cursor_id: cursorId,
      has_more: nextOffset < ids.length,
    },
  };
}

export function handlePersonGetByIds(account: Account, raw: unknown): ApiResponse {
  const parsed = ByIdsSchema.safeParse(raw);
  if (!parsed.success) return orttoError(400, issue(parsed.error));
  const contacts: Record<string, unknown> = {};
  for (const id of parsed.data.contact_ids) {
    const person = account.people.get(id);
    if (person !== undefined) contacts[id] = shape(account, person, parsed.data.fields);
  }
  return { status: 200, body: { contacts } };
}
