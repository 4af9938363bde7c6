import * as z from 'zod';

/**
 * What the audit trail records (docs/architecture.md#audit-trail). `run.approved` and
 * `run.rejected` are reserved for the removal guardrail's decisions.
 */
export const AUDIT_ACTIONS = [
  'connection.created',
  'connection.updated',
  'connection.key_rotated',
  'connection.removed',
  'export.created',
  'export.updated',
  'export.deleted',
  'export.duplicated',
  'run.requested',
  'run.cancelled',
  'run.approved',
  'run.rejected',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Entries are filed under a connection or an export; a run's entries under its export. */
export const AUDIT_RESOURCE_TYPES = ['connection', 'export'] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

/**
 * Bounds on one entry, so no edit can make an item DynamoDB refuses (400 KB): a value's JSON text is
 * cut at `valueChars`, a change list at `changes`, a detail list at `detailItems`.
 */
export const AUDIT_LIMITS = { valueChars: 500, changes: 100, detailItems: 100 } as const;

/**
 * One field that changed, `from` → `to` (absent: the field was not set, on that side). A value too
 * long to keep is the start of its JSON text with `truncated` set. A secret is never a value: its
 * change is recorded as `changed: true` alone.
 */
export const AuditChangeSchema = z.object({
  field: z.string().min(1),
  // Any JSON value (bounded by boundValue on the way in); not z.json(): its recursive JSON Schema
  // cannot be embedded in the API document.
  from: z
    .unknown()
    .optional()
    .meta({ description: 'The value before (any JSON value); absent when it was not set' }),
  to: z
    .unknown()
    .optional()
    .meta({ description: 'The value after (any JSON value); absent when it is not set' }),
  changed: z.literal(true).optional(),
  truncated: z.literal(true).optional(),
});
export type AuditChange = z.infer<typeof AuditChangeSchema>;

const detailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

export const AuditEntrySchema = z.object({
  id: z.string().min(1),
  at: z.iso.datetime().meta({ description: 'When the change was made (ISO 8601, UTC)' }),
  actor: z.object({ id: z.string().min(1), role: z.enum(['admin', 'contributor', 'viewer']) }).meta({
    description: "Who made it: the token's subject id and the role it acted in (never a name or an email)",
  }),
  action: z.enum(AUDIT_ACTIONS),
  resource: z.object({ type: z.enum(AUDIT_RESOURCE_TYPES), id: z.string().min(1) }),
  changes: z
    .array(AuditChangeSchema)
    .optional()
    .meta({
      description:
        'Field by field, old → new: only `to` on a creation, only `from` on a removal; a key only as ' +
        '{"field": "apiKey", "changed": true}; values over 500 characters cut, with `truncated`',
    }),
  moreChanges: z
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: `Changes left out beyond the first ${AUDIT_LIMITS.changes}` }),
  runId: z
    .string()
    .optional()
    .meta({ description: 'The run a run.* entry is about (filed under its export)' }),
  detail: z
    .record(z.string(), detailValue)
    .optional()
    .meta({
      description:
        "Context a change list cannot carry: a run request's trigger and status, the export a copy came from, " +
        'what a removal detached and cancelled, a reason',
    }),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditDetail = NonNullable<AuditEntry['detail']>;

/** What JSON.parse gives back. */
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A value as the trail keeps it: itself when short enough; else a string cut to the bound, or the
 * start of any other value's JSON text, with `truncated` set.
 */
export const boundValue = (value: unknown): { value: JsonValue; truncated: boolean } => {
  const max = AUDIT_LIMITS.valueChars;
  if (typeof value === 'string') {
    return value.length <= max
      ? { value, truncated: false }
      : { value: `${value.slice(0, max)}…`, truncated: true };
  }
  const text = JSON.stringify(value) ?? 'null';
  if (text.length <= max) return { value: JSON.parse(text) as JsonValue, truncated: false };
  return { value: `${text.slice(0, max)}…`, truncated: true };
};

/** Detail strings and lists cut to the same bounds as change values. */
export const boundDetail = (detail: AuditDetail): AuditDetail =>
  Object.fromEntries(
    Object.entries(detail).map(([k, v]) => {
      if (typeof v === 'string') return [k, boundValue(v).value as string];
      if (Array.isArray(v)) return [k, v.slice(0, AUDIT_LIMITS.detailItems)];
      return [k, v];
    }),
  );
