import { parseIntegerText, parseNumberText } from '#lib/domain/coerce.ts';
import type { ContactData, CustomValue } from '#lib/domain/contact.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import {
  CUSTOM_FIELD_TYPES,
  type CustomFieldType,
  STANDARD_FIELDS,
  type StandardField,
} from '#lib/domain/export-config.ts';
import type { ContactRecord } from './schemas.ts';

export type WireValue = string | number | boolean;

/**
 * A contact object as `POST /contact` and `POST /contacts` take it (docs/autopilot-api.md#contact-fields, #custom-fields):
 * standard fields at the top level with their exact casing, typed custom fields under `custom`.
 * `unsubscribed` is deliberately not part of the type: the exporter never writes it.
 */
export type AutopilotWireContact = Partial<Record<StandardField, string>> & {
  Email?: string;
  custom?: Record<string, WireValue>;
  _autopilot_list?: string;
};

/** A contact read back from Autopilot, decoded into the product's vocabulary. */
export interface AutopilotContact {
  contactId: string;
  email: string | undefined;
  fields: Partial<Record<StandardField, string>>;
  /** Keyed by the field's human name (`kind`), deleted fields left out. */
  custom: Record<string, { type: CustomFieldType; value: CustomValue }>;
  lists: string[];
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  unsubscribed: boolean | undefined;
}

const STANDARD = new Set<string>(STANDARD_FIELDS);
const TYPES = new Set<string>(CUSTOM_FIELD_TYPES);

export const isCustomFieldType = (t: string): t is CustomFieldType => TYPES.has(t);

/** `("string", "Plan Name")` → `string--Plan--Name`: every whitespace character becomes `--`. */
export const customFieldKey = (type: CustomFieldType, name: string): string =>
  `${type}--${name.replace(/\s/g, '--')}`;

/** Inverse of {@link customFieldKey}; undefined when the key is not `<known type>--<Name>`. */
export const parseCustomFieldKey = (key: string): { type: CustomFieldType; name: string } | undefined => {
  const sep = key.indexOf('--');
  if (sep <= 0) return undefined;
  const type = key.slice(0, sep);
  const rest = key.slice(sep + 2);
  if (!isCustomFieldType(type) || rest === '') return undefined;
  return { type, name: rest.replaceAll('--', ' ') };
};

/** Longer than any timestamp either format can write (ISO-8601 with nanoseconds and offset: 35). */
const MAX_TIMESTAMP_TEXT = 64;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const RFC_1123 =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})$/;

/** Autopilot timestamps: ISO-8601 (2017 output) or RFC-1123 (2015 output). Anything else is undefined. */
export const parseTimestamp = (text: string): Date | undefined => {
  const t = text.trim();
  if (t.length > MAX_TIMESTAMP_TEXT) return undefined;
  if (!ISO_8601.test(t) && !RFC_1123.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms);
};

/** The value as sent for `type`, or why it cannot be sent. Dates go out as ISO-8601. */
const encodeValue = (type: CustomFieldType, value: CustomValue): WireValue | { error: string } => {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : String(value);
    case 'integer': {
      const n = typeof value === 'string' ? parseIntegerText(value.trim()) : value;
      return typeof n === 'number' && Number.isSafeInteger(n) ? n : { error: 'not_an_integer' };
    }
    case 'float': {
      const n = typeof value === 'string' ? parseNumberText(value.trim()) : value;
      return typeof n === 'number' && Number.isFinite(n) ? n : { error: 'not_a_number' };
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : { error: 'not_a_boolean' };
    case 'date': {
      const d =
        typeof value === 'string'
          ? parseTimestamp(value)
          : typeof value === 'number' && Number.isFinite(value)
            ? new Date(value)
            : undefined;
      return d !== undefined && !Number.isNaN(d.getTime()) ? d.toISOString() : { error: 'not_a_date' };
    }
  }
};

/**
 * ContactData → Autopilot wire contact. With `listId`, the contact carries `_autopilot_list`.
 * Throws ValidationError naming each custom field whose value does not fit its type.
 */
export const encodeContact = (contact: ContactData, listId?: string): AutopilotWireContact => {
  const wire: AutopilotWireContact = { Email: contact.email };
  for (const [field, value] of Object.entries(contact.fields)) {
    if (STANDARD.has(field) && typeof value === 'string') wire[field as StandardField] = value;
  }
  const issues: { path: string; reason: string }[] = [];
  const custom: Record<string, WireValue> = {};
  for (const [name, { type, value }] of Object.entries(contact.custom)) {
    const encoded = encodeValue(type, value);
    if (typeof encoded === 'object') issues.push({ path: `custom.${name}`, reason: encoded.error });
    else custom[customFieldKey(type, name)] = encoded;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  if (Object.keys(custom).length > 0) wire.custom = custom;
  if (listId !== undefined) wire._autopilot_list = listId;
  return wire;
};

const decodeValue = (value: unknown): CustomValue | undefined => {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
};

/** A contact record from a GET response → the product's vocabulary (custom `kind` is the field name). */
export const decodeContact = (record: ContactRecord): AutopilotContact => {
  const fields: Partial<Record<StandardField, string>> = {};
  for (const field of STANDARD_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') fields[field] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') fields[field] = String(value);
  }
  // No prototype: a kind is whatever the account holds, `__proto__` and `constructor` included,
  // and a field the contact lacks must read as absent.
  const custom: AutopilotContact['custom'] = Object.create(null);
  for (const f of record.custom_fields ?? []) {
    if (f.deleted === true || !isCustomFieldType(f.fieldType)) continue;
    const value = decodeValue(f.value);
    if (value !== undefined) custom[f.kind] = { type: f.fieldType, value };
  }
  return {
    contactId: record.contact_id,
    email: record.Email,
    fields,
    custom,
    lists: record.lists ?? [],
    createdAt: record.created_at === undefined ? undefined : parseTimestamp(record.created_at),
    updatedAt: record.updated_at === undefined ? undefined : parseTimestamp(record.updated_at),
    unsubscribed: record.unsubscribed,
  };
};
