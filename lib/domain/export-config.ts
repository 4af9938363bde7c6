import * as z from 'zod';
import { RemovalGuardrailSchema } from './removal-guardrail.ts';

/**
 * The product's contact vocabulary: Autopilot v1's writable standard fields (docs/autopilot-api.md#contact-fields)
 * except `Email` (mapped separately) and `unsubscribed` (the exporter never writes it).
 */
export const STANDARD_FIELDS = [
  'FirstName',
  'LastName',
  'Salutation',
  'Company',
  'NumberOfEmployees',
  'Title',
  'Industry',
  'Phone',
  'MobilePhone',
  'Fax',
  'Website',
  'MailingStreet',
  'MailingCity',
  'MailingState',
  'MailingPostalCode',
  'MailingCountry',
  'owner_name',
  'LeadSource',
  'Status',
  'LinkedIn',
  'Twitter',
] as const;
export const StandardFieldSchema = z.enum(STANDARD_FIELDS);
export type StandardField = z.infer<typeof StandardFieldSchema>;

export const CUSTOM_FIELD_TYPES = ['string', 'integer', 'float', 'boolean', 'date'] as const;
export const CustomFieldTypeSchema = z.enum(CUSTOM_FIELD_TYPES);
export type CustomFieldType = z.infer<typeof CustomFieldTypeSchema>;

/** Most segments one export may select; membership is kept as a 32-bit mask in the planner. */
export const MAX_SEGMENTS_PER_EXPORT = 25;
export const DEFAULT_CAP = 100_000;

const profileField = z.string().trim().min(1, 'must name a profile field').max(200);

const MAX_CUSTOM_FIELD_NAME = 100;

/** Ortto documents no bound on a tag's length; this is the text-field bound the adapter checks. */
export const MAX_TAG_NAME = 255;

/** A segment's membership tag (tag mode, Ortto): any non-blank text up to {@link MAX_TAG_NAME}. */
export const MembershipTagSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_TAG_NAME, `must be at most ${MAX_TAG_NAME} characters`);

/**
 * Names that are object internals: a contact keys its custom values by name, and `__proto__` as a
 * key is the prototype setter (the value would vanish), while `constructor` and `prototype` are
 * found on objects that never had such a field. Only the exact spellings are special to JavaScript,
 * so "Prototype" or "Constructor" remain ordinary names.
 */
const RESERVED_CUSTOM_FIELD_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A custom field's human name ("Plan Name"). Destinations encode it (Autopilot: `string--Plan--Name`),
 * so names that would not survive that round trip are refused.
 */
export const CustomFieldNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_CUSTOM_FIELD_NAME, `must be at most ${MAX_CUSTOM_FIELD_NAME} characters`)
  .check((ctx) => {
    const n = ctx.value;
    // zod runs every check even after `max` failed: the pattern below must not see a long name.
    if (n.length > MAX_CUSTOM_FIELD_NAME) return;
    const problem =
      n !== n.trim()
        ? 'must not start or end with a space'
        : /\s{2,}|[\t\r\n]/.test(n)
          ? 'must not contain tabs, line breaks or repeated spaces'
          : /[\p{Cc}\p{Cs}]/u.test(n)
            ? 'must not contain control characters or unpaired surrogates'
            : n.includes('--')
              ? 'must not contain "--" (the field-name separator)'
              : RESERVED_CUSTOM_FIELD_NAMES.has(n)
                ? `"${n}" is a reserved name; choose another`
                : undefined;
    if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: n });
  });

export const CustomFieldMappingSchema = z.object({
  name: CustomFieldNameSchema,
  type: CustomFieldTypeSchema,
  source: profileField,
});
export type CustomFieldMapping = z.infer<typeof CustomFieldMappingSchema>;

export const DataMatchingSchema = z
  .object({
    /** Profile field holding the email address (required). */
    email: profileField,
    /** Standard contact field → profile field. */
    fields: z.partialRecord(StandardFieldSchema, profileField).default({}),
    custom: z.array(CustomFieldMappingSchema).max(100, 'at most 100 custom fields').default([]),
    /** Profile field holding the profile's last update time; decides merges of shared emails. */
    updatedAt: profileField.optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.custom.forEach((c, i) => {
      const key = c.name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', i, 'name'],
          message: `duplicate custom field "${c.name}"`,
        });
      }
      seen.add(key);
    });
  });
export type DataMatching = z.infer<typeof DataMatchingSchema>;

const MAX_SEGMENT_ID = 200;
const NOT_A_SEGMENT_ID = '"__proto__" is not a supported segment id';

/**
 * `__proto__` cannot be a key of the per-segment overrides below (zod's records skip it without a
 * word, as they must: on a plain object it is the prototype setter), so a segment with that id is
 * refused rather than half supported. Every other id, `constructor` included, is looked up as an
 * own key.
 */
const segmentId = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_SEGMENT_ID)
  .refine((id) => id !== '__proto__', NOT_A_SEGMENT_ID);

/**
 * Per-segment overrides. Keys are checked here, before zod's record sees them: a `__proto__` key
 * (JSON can carry one) is refused instead of skipped, and an over-long key is refused and left out
 * so no pattern runs on it.
 */
const bySegment = <V extends z.ZodType<string>>(value: V) =>
  z.preprocess(
    (input: Record<string, z.input<V>>, ctx) => {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
      const refuse = (key: string, message: string) =>
        ctx.issues.push({ code: 'custom', message, path: [key], input });
      const kept: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(input)) {
        if (key === '__proto__') refuse(key, NOT_A_SEGMENT_ID);
        else if (key.length > MAX_SEGMENT_ID) {
          refuse(`${key.slice(0, 40)}…`, `a segment id is at most ${MAX_SEGMENT_ID} characters`);
        } else kept[key] = v;
      }
      return kept;
    },
    z.record(segmentId, value),
  );

/** Longest webhook URL accepted; checked before anything parses it. */
export const MAX_WEBHOOK_URL = 2_000;

/** The one plain-HTTP host a webhook may name, and only where the deployment says it runs locally. */
export const LOOPBACK_WEBHOOK_HOST = '127.0.0.1';

const privateIpv4 = (host: string): boolean => {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const [a = 0, b = 0] = parts;
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
};

/**
 * Why a webhook URL cannot be used, or undefined. HTTPS to a public host only: a notification must not
 * travel in clear text nor reach the deployment's own network (a loopback or private address, the
 * instance metadata service). Plain HTTP to 127.0.0.1 passes only with `allowLoopbackHttp` (local mode).
 */
export const webhookUrlProblem = (url: string, allowLoopbackHttp: boolean): string | undefined => {
  if (url.length > MAX_WEBHOOK_URL) return `must be at most ${MAX_WEBHOOK_URL} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry a user name or password';
  const host = parsed.hostname.toLowerCase();
  if (parsed.protocol === 'http:') {
    if (host !== LOOPBACK_WEBHOOK_HOST) return 'must use https://';
    return allowLoopbackHttp
      ? undefined
      : 'must use https:// (http://127.0.0.1 is accepted only in local mode)';
  }
  if (parsed.protocol !== 'https:') return 'must use https://';
  if (host === 'localhost' || host.endsWith('.localhost') || privateIpv4(host) || host.startsWith('['))
    return 'must name a public host (not localhost, a private address or an IP v6 literal)';
  return undefined;
};

/**
 * Where an export's webhook signing secret is kept in the secret store, beside the connections' keys
 * (same prefix, so the functions that read keys may read it): `webhooks/` cannot start a connection id.
 */
export const webhookSecretId = (exportId: string): string => `webhooks/${exportId}`;

/** Where an export's state changes are announced beyond the stack's topic. */
export const NotificationsSchema = z.object({
  /** Optional; signed with a secret the product generates when the URL is first set. */
  webhookUrl: z
    .string()
    .trim()
    .check((ctx) => {
      // The loopback rule is the deployment's: the use case applies it; stored records stay readable.
      const problem = webhookUrlProblem(ctx.value, true);
      if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    })
    .optional(),
});
export type Notifications = z.infer<typeof NotificationsSchema>;

export const REPAIR_NOT_IN_FIELD_MODE =
  'drift repair reads lists (list mode) or tags (tag mode) back; membership fields cannot be read back, so a ' +
  'field-mode export cannot repair';

/** How drift repair behaves for an export. */
export const RepairSchema = z.object({
  /** Every run reads its lists back and repairs them before planning its changes. */
  everyRun: z.boolean().default(false),
  /**
   * Also remove members this product never sent, from lists it created (or an admin let it adopt).
   * Off: they are counted and left alone.
   */
  removeForeign: z.boolean().default(false),
});
export type Repair = z.infer<typeof RepairSchema>;

export const ExportConfigSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    /** Null when the export was detached from a removed connection. */
    connectionId: z.string().min(1).nullable(),
    segmentIds: z
      .array(segmentId)
      .min(1, 'select at least one segment')
      .max(MAX_SEGMENTS_PER_EXPORT, `at most ${MAX_SEGMENTS_PER_EXPORT} segments`),
    dataMatching: DataMatchingSchema,
    /** `list`/`field` on Autopilot; `tag` (one tag per segment) on Ortto, which has no list API. */
    membership: z.enum(['list', 'field', 'tag']).default('list'),
    onLeave: z.enum(['remove', 'keep']).default('remove'),
    /** List mode: Autopilot list title per segment id (default: the segment's name). */
    listTitles: bySegment(z.string().trim().min(1).max(200)).prefault({}),
    /** Field mode: boolean custom field name per segment id (default: "Segment <segment name>"). */
    membershipFields: bySegment(CustomFieldNameSchema).prefault({}),
    /** Tag mode: the tag per segment id (default: "Segment <segment name>"). */
    membershipTags: bySegment(MembershipTagSchema).prefault({}),
    /**
     * List mode: whether a list that already exists in Autopilot under a title this export uses, but
     * that this product did not create, may be taken over (its other members are then removed as
     * leavers). Only an admin may set it; a title match alone never adopts a list.
     */
    adoptExistingLists: z.boolean().default(false),
    cap: z.number().int().positive().max(10_000_000).default(DEFAULT_CAP),
    capPolicy: z.enum(['fail', 'truncate']).default('fail'),
    /** Runs with every refresh unless switched off, as the original connector's exports do. */
    scheduled: z.boolean().default(true),
    /**
     * Holds a run whose removals would empty much of a list until an admin approves them. Left out, the
     * defaults apply (on: more than 10% and more than 100 contacts), so a client that does not know
     * the setting can only ever leave it on.
     */
    removalGuardrail: RemovalGuardrailSchema.optional(),
    /** Left out on a save: no webhook (the stack's topic is always told). */
    notifications: NotificationsSchema.optional(),
    /** Drift repair (docs/architecture.md#drift-repair); list and tag mode. Left out: off. */
    repair: RepairSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.segmentIds.forEach((id, i) => {
      if (seen.has(id))
        ctx.addIssue({ code: 'custom', path: ['segmentIds', i], message: `duplicate segment "${id}"` });
      seen.add(id);
    });
    for (const key of ['listTitles', 'membershipFields', 'membershipTags'] as const) {
      for (const id of Object.keys(c[key])) {
        if (!seen.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: [key, id],
            message: 'names a segment the export does not select',
          });
        }
      }
    }
    if (c.membership === 'field' && (c.repair?.everyRun || c.repair?.removeForeign))
      ctx.addIssue({ code: 'custom', path: ['repair'], message: REPAIR_NOT_IN_FIELD_MODE });
    const customNames = new Set(c.dataMatching.custom.map((f) => f.name.toLowerCase()));
    for (const [id, field] of Object.entries(c.membershipFields)) {
      if (customNames.has(field.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: ['membershipFields', id],
          message: `"${field}" is already a mapped custom field`,
        });
      }
    }
  });
export type ExportConfig = z.infer<typeof ExportConfigSchema>;
export type ExportConfigInput = z.input<typeof ExportConfigSchema>;

/** The override for `id`, never something every object inherits (a segment may be called `constructor`). */
const overrideFor = (overrides: Record<string, string>, id: string): string | undefined =>
  Object.hasOwn(overrides, id) ? overrides[id] : undefined;

export const membershipFieldName = (config: ExportConfig, segment: { id: string; name: string }): string =>
  overrideFor(config.membershipFields, segment.id) ??
  `Segment ${segment.name}`.replace(/\s+/g, ' ').replaceAll('--', '-');

export const listTitle = (config: ExportConfig, segment: { id: string; name: string }): string =>
  overrideFor(config.listTitles, segment.id) ?? segment.name;

/** The segment's tag in tag mode: prefixed by default, so it does not take over a tag the account already uses. */
export const membershipTagName = (config: ExportConfig, segment: { id: string; name: string }): string =>
  overrideFor(config.membershipTags, segment.id) ??
  `Segment ${segment.name}`.replace(/\s+/g, ' ').trim().slice(0, MAX_TAG_NAME);

/** Where the segment's membership is written, whatever the mode: a list title, a field name or a tag. */
export const membershipTargetName = (config: ExportConfig, segment: { id: string; name: string }): string => {
  switch (config.membership) {
    case 'list':
      return listTitle(config, segment);
    case 'field':
      return membershipFieldName(config, segment);
    case 'tag':
      return membershipTagName(config, segment);
  }
};
