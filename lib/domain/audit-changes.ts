import { AUDIT_LIMITS, type AuditChange, boundValue } from './audit.ts';
import type { Connection } from './connection.ts';
import type { ExportConfig } from './export-config.ts';

/**
 * The fields of a connection a person decides (and `status`, which a rotation resets), as the trail
 * compares them. Never the key: the connection record does not hold it, and `keyHint` is the hint
 * admins already see.
 */
const CONNECTION_FIELDS: Record<
  keyof Pick<
    Connection,
    | 'type'
    | 'region'
    | 'displayName'
    | 'sharing'
    | 'exportUsers'
    | 'cap'
    | 'ratePerSecond'
    | 'keyHint'
    | 'status'
    | 'consent'
  >,
  true
> = {
  type: true,
  region: true,
  displayName: true,
  sharing: true,
  exportUsers: true,
  cap: true,
  ratePerSecond: true,
  keyHint: true,
  status: true,
  consent: true,
};

/** Every field of an export's configuration: a field added to it is compared without another edit. */
const EXPORT_FIELDS: Record<keyof ExportConfig, true> = {
  name: true,
  connectionId: true,
  segmentIds: true,
  dataMatching: true,
  membership: true,
  onLeave: true,
  listTitles: true,
  membershipFields: true,
  membershipTags: true,
  adoptExistingLists: true,
  cap: true,
  capPolicy: true,
  scheduled: true,
  notifications: true,
  removalGuardrail: true,
  repair: true,
};

/**
 * Values the trail names but never holds: a webhook URL may carry its receiver's token (Slack's do),
 * so its entry says only that it changed, as a key rotation does.
 */
const CONCEALED_PATHS: ReadonlySet<string> = new Set(['notifications', 'notifications.webhookUrl']);

export const AUDITED_FIELDS = {
  connection: Object.keys(CONNECTION_FIELDS),
  export: Object.keys(EXPORT_FIELDS),
} as const;

/** Nested objects are compared field by field this deep (`dataMatching.fields.FirstName`); lists whole. */
const MAX_DEPTH = 3;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with sorted keys: equal values compare equal whatever order their keys were written in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) =>
    isPlainObject(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  ) ?? 'undefined';

const change = (field: string, from: unknown, to: unknown): AuditChange => {
  const out: AuditChange = { field };
  let truncated = false;
  if (from !== undefined) {
    const b = boundValue(from);
    out.from = b.value;
    truncated ||= b.truncated;
  }
  if (to !== undefined) {
    const b = boundValue(to);
    out.to = b.value;
    truncated ||= b.truncated;
  }
  if (truncated) out.truncated = true;
  return out;
};

/** Absent and an empty object say the same: no settings (a PUT writes `notifications: {}` for none). */
const isEmpty = (v: unknown): boolean => v === undefined || (isPlainObject(v) && Object.keys(v).length === 0);

const walk = (path: string, from: unknown, to: unknown, depth: number, out: AuditChange[]): void => {
  if (canonical(from) === canonical(to) || (isEmpty(from) && isEmpty(to))) return;
  if (CONCEALED_PATHS.has(path) && !(isPlainObject(from) && isPlainObject(to) && depth < MAX_DEPTH)) {
    out.push({ field: path, changed: true });
    return;
  }
  // A creation or a removal lists each field whole; an edit points at what changed inside one.
  if (depth < MAX_DEPTH && isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    for (const k of keys) walk(`${path}.${k}`, from[k], to[k], depth + 1, out);
    return;
  }
  out.push(change(path, from, to));
};

/**
 * What changed between two states of a record, over `fields`: `before` undefined for a creation,
 * `after` undefined for a removal. At most {@link AUDIT_LIMITS}.changes; `more` counts the rest.
 */
export const diffFields = (
  fields: readonly string[],
  before: Readonly<Record<string, unknown>> | undefined,
  after: Readonly<Record<string, unknown>> | undefined,
): { changes: AuditChange[]; more: number } => {
  const all: AuditChange[] = [];
  for (const field of fields) walk(field, before?.[field], after?.[field], 1, all);
  return {
    changes: all.slice(0, AUDIT_LIMITS.changes),
    more: Math.max(0, all.length - AUDIT_LIMITS.changes),
  };
};
