import * as z from 'zod';
import { json, problems, query } from '#functions/shared/http/route-helpers.ts';
import { AUDIT_RESOURCE_TYPES, AuditEntrySchema, type AuditResourceType } from '#lib/domain/audit.ts';
import { idIssue } from '#lib/domain/validation.ts';
import type { Route } from './route.ts';

const RESOURCE_FORM = `${AUDIT_RESOURCE_TYPES.map((t) => `${t}/<id>`).join(' or ')}`;
/** `export/` and an id of at most 256 bytes (so at most 256 characters). */
const MAX_RESOURCE_CHARS = 'connection/'.length + 256;

const isResourceType = (text: string): text is AuditResourceType =>
  (AUDIT_RESOURCE_TYPES as readonly string[]).includes(text);

const resource = z
  .string({ error: `is required: ${RESOURCE_FORM}` })
  .transform((value, ctx): { type: AuditResourceType; id: string } => {
    if (value.length > MAX_RESOURCE_CHARS) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_RESOURCE_CHARS} characters` });
      return z.NEVER;
    }
    const slash = value.indexOf('/');
    const type = slash < 0 ? '' : value.slice(0, slash);
    if (!isResourceType(type)) {
      ctx.addIssue({ code: 'custom', message: `must be ${RESOURCE_FORM}` });
      return z.NEVER;
    }
    const id = value.slice(slash + 1);
    const reason = idIssue(id);
    if (reason !== undefined) {
      ctx.addIssue({ code: 'custom', message: `names an id that ${reason}` });
      return z.NEVER;
    }
    return { type, id };
  });

/** An audit cursor as the store returns it: base64url of `<ISO instant>#<entry id>`. */
const isAuditCursor = (cursor: string): boolean => {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return false;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return Buffer.from(key, 'utf8').toString('base64url') === cursor && key.includes('#');
};

const AuditQuerySchema = z.object({
  resource,
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .refine(isAuditCursor, 'is not a cursor this API returned; send the `next` of the previous page')
    .optional(),
});

export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  next: z.string().optional().meta({ description: 'Send as `cursor` for the next page; absent on the last' }),
});

/** `GET /audit`: one connection's or export's audit trail, newest first (admins). */
export const auditRoute: Route = {
  method: 'GET',
  path: '/audit',
  operationId: 'listAudit',
  summary:
    'Audit trail of one connection or export, newest first: who changed which fields (old → new, never ' +
    'a key), requested or cancelled which run, removed what, and when',
  action: 'audit:read',
  query: [
    {
      name: 'resource',
      description: `Required: ${RESOURCE_FORM} (a removed one's trail stays readable until it expires)`,
      schema: z.string(),
    },
    { name: 'limit', description: '1–100 (default 20)', schema: z.coerce.number() },
    { name: 'cursor', description: 'From the previous page’s `next`', schema: z.string() },
  ],
  responses: [
    { status: 200, description: 'Entries, newest first', schema: AuditPageSchema },
    ...problems(400, 401, 403),
  ],
  handle: async (ctx) => {
    const q = query(AuditQuerySchema, ctx);
    const page = await ctx.deps.state.audit.list({
      resourceType: q.resource.type,
      resourceId: q.resource.id,
      limit: q.limit,
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    return json(200, { entries: page.entries, ...(page.next === undefined ? {} : { next: page.next }) });
  },
};
