/** Route dispatch, and the small read/write routes: tags, custom fields, audiences. */
import * as z from 'zod';
import type { Account } from './account.ts';
import { slug, TYPE_PREFIX } from './fields.ts';
import { type ApiResponse, orttoError } from './http-io.ts';
import { handleMerge } from './merge.ts';
import { handlePersonGet, handlePersonGetByIds } from './person-get.ts';
import type { RouteName } from './routes.ts';
import type { StandInBehaviour } from './types.ts';

/** "Up to 100" custom person fields, as the API pages say (the plans allow 100-200). */
export const MAX_CUSTOM_FIELDS = 100;

export interface RouteContext {
  account: Account;
  behaviour: StandInBehaviour;
  body: unknown;
  /** ISO-8601, for created/last-used stamps. */
  now: string;
}

const TagsGetSchema = z.object({ q: z.string().max(200).optional() });

const FieldCreateSchema = z.object({
  name: z.string().trim().min(1, 'name: must not be empty').max(100, 'name: at most 100 characters'),
  type: z.string().max(40),
  track_changes: z.boolean().default(false),
  values: z.array(z.string().min(1).max(255)).min(1).max(1_000).optional(),
});

const AudiencesGetSchema = z.object({
  search_term: z.string().max(200).optional(),
  with_filter: z.boolean().default(false),
  limit: z.number().int().min(1).max(40, 'limit: at most 40').default(40),
  offset: z.number().int().min(0).default(0),
  archived: z.boolean().optional(),
  retention: z.unknown().optional(),
});

const problem = (error: z.ZodError): string => {
  const first = error.issues[0];
  if (first === undefined) return 'invalid request';
  return /^[a-z_]+: /.test(first.message)
    ? first.message
    : `${first.path.join('.') || 'body'}: ${first.message}`;
};

function tagsGet({ account, body }: RouteContext): ApiResponse {
  const parsed = TagsGetSchema.safeParse(body);
  if (!parsed.success) return orttoError(400, problem(parsed.error));
  const q = parsed.data.q?.toLowerCase() ?? '';
  const tags = [...account.tags.values()]
    .filter((t) => t.name.toLowerCase().includes(q))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => {
      const members = account.tagMembers(t.name);
      return {
        id: t.id,
        name: t.name,
        source: 'api',
        count: members.length,
        subscribers: members.filter((p) => p.fields.get('bol::p') === true).length,
        sms_opted_in: members.filter((p) => p.fields.get('bol::sp') === true).length,
        created_at: t.createdAt,
        last_used: t.lastUsed,
        type: 'tag',
      };
    });
  return { status: 200, body: tags };
}

function fieldsGet({ account }: RouteContext): ApiResponse {
  const fields = [...account.fields.values()].map((f) => ({
    field: {
      id: f.id,
      name: f.name,
      display_type: f.displayType,
      liquid_name: `people.custom.${slug(f.name).replaceAll('-', '_')}`,
      ...(f.values === undefined ? {} : { dic_items: [...f.values] }),
    },
    tracked_value: f.trackChanges,
  }));
  return { status: 200, body: { fields } };
}

function fieldCreate({ account, body }: RouteContext): ApiResponse {
  const parsed = FieldCreateSchema.safeParse(body);
  if (!parsed.success) return orttoError(400, problem(parsed.error));
  const { name, type, track_changes: trackChanges, values } = parsed.data;
  if (type === 'aggregate')
    return orttoError(400, 'type: aggregate fields cannot be created through the API');
  const prefix = TYPE_PREFIX[type];
  if (prefix === undefined)
    return orttoError(400, `type: expected one of ${Object.keys(TYPE_PREFIX).join(', ')}`);
  const isSelect = type === 'single_select' || type === 'multi_select';
  if (isSelect && values === undefined) return orttoError(400, `values: required for ${type}`);
  if (!isSelect && values !== undefined)
    return orttoError(400, `values: only for single_select and multi_select`);
  const taken = [...account.fields.values()].some((f) => f.name.toLowerCase() === name.toLowerCase());
  if (taken) return orttoError(400, 'name: a field with this name already exists');
  if (account.fields.size >= MAX_CUSTOM_FIELDS)
    return orttoError(400, `A maximum of ${MAX_CUSTOM_FIELDS} custom fields is allowed`);
  const base = slug(name);
  if (base === '') return orttoError(400, 'name: needs a letter or digit');
  // Names differing only in punctuation would share a slug; the later one gets a number.
  let id = `${prefix}:cm:${base}`;
  for (let n = 2; account.fields.has(id); n++) id = `${prefix}:cm:${base}-${n}`;
  account.fields.set(id, {
    id,
    name,
    type,
    displayType: type,
    trackChanges,
    ...(values === undefined ? {} : { values }),
  });
  return { status: 200, body: { name, field_id: id, display_type: type } };
}

function audiencesGet({ account, body }: RouteContext): ApiResponse {
  const parsed = AudiencesGetSchema.safeParse(body);
  if (!parsed.success) return orttoError(400, problem(parsed.error));
  const { search_term: term, with_filter: withFilter, limit, offset } = parsed.data;
  const audiences = [...account.audiences.values()]
    .filter((a) => term === undefined || a.name.toLowerCase().includes(term.toLowerCase()))
    .slice(offset, offset + limit)
    .map((a) => {
      const members = account.tagMembers(a.tag);
      const tagId = account.tags.get(a.tag)?.id;
      return {
        id: a.id,
        name: a.name,
        type: 'permanent',
        ready: true,
        building: false,
        is_public: false,
        ...(withFilter
          ? { filter: { $id_set_is: { field_id: 'u4s::t', value: tagId === undefined ? [] : [tagId] } } }
          : {}),
        members: members.length,
        subscribers: members.filter((p) => p.fields.get('bol::p') === true).length,
        sms_opted_in: members.filter((p) => p.fields.get('bol::sp') === true).length,
        added_last_30_days: 0,
        created: a.createdAt,
        edited_at: a.createdAt,
      };
    });
  // A bare array, as recorded live.
  return { status: 200, body: audiences };
}

const HANDLERS: Record<RouteName, (ctx: RouteContext) => ApiResponse> = {
  merge: ({ account, behaviour, body, now }) => handleMerge(account, behaviour, body, now),
  personGet: ({ account, behaviour, body }) => handlePersonGet(account, behaviour, body),
  personGetByIds: ({ account, body }) => handlePersonGetByIds(account, body),
  tagsGet,
  fieldsGet,
  fieldCreate,
  audiencesGet,
};

export function handleRoute(name: RouteName, ctx: RouteContext): ApiResponse {
  if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body))
    return orttoError(400, 'body: expected a JSON object');
  return HANDLERS[name](ctx);
}
