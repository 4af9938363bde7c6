/**
 * Validation of one contact object as sent to POST /contact (inside `contact`) or POST /contacts
 * (each array item). Pure: account-dependent checks (list exists, custom field type clashes,
 * email taken) are done by the account before anything is written.
 *
 * Decisions where the real API is unknown (docs/autopilot-api.md#contact-fields, #custom-fields, #uncertain):
 * - Unknown top-level keys (including `contact_id`, `Name`, lower-case `email`) are ignored,
 *   as a lenient JSON API would; only the exact-cased standard fields (docs/autopilot-api.md#contact-fields) are stored.
 * - A standard field must be a string, number or boolean; `null` clears it; an object or array
 *   makes the whole contact invalid.
 * - `Email` (and `_NewEmail`) must look like an address: one '@', no spaces, a dotted domain.
 * - Custom keys must be typed (`type--Name--Parts`); an untyped key, an unknown type or a value
 *   that does not match its type makes the whole contact invalid (single upsert → 400, bulk →
 *   the item is left out of the reply). Nothing is coerced, so exporter bugs surface. `null`
 *   clears the value. Dates must be ISO-8601 strings and are stored normalised (toISOString).
 * - `notify` and `_autopilot_session_id` are accepted and ignored.
 */

export const STANDARD_FIELDS: ReadonlySet<string> = new Set([
  'Email',
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
]);

export const CUSTOM_FIELD_TYPES = ['string', 'integer', 'float', 'boolean', 'date'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export type FieldValue = string | number | boolean;

export interface CustomWrite {
  name: string;
  fieldType: CustomFieldType;
  /** `null` clears the value. */
  value: FieldValue | null;
}

export interface ContactWrite {
  /** `Email` exactly as sent. */
  email?: string;
  newEmail?: string;
  /** Standard fields to set (Email included); `null` clears one. */
  fields: Record<string, FieldValue | null>;
  unsubscribed?: boolean;
  custom: CustomWrite[];
  listId?: string;
}

export type ParseResult = { ok: true; write: ContactWrite } | { ok: false; message: string };

const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}/;
const MAX_DATE_TEXT = 64;

/** Length first: the pattern only ever sees an address-sized string. */
export function isEmailShaped(value: string): boolean {
  return value.length <= 254 && EMAIL_SHAPE.test(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const fail = (message: string): ParseResult => ({ ok: false, message });

export function parseContactWrite(input: unknown): ParseResult {
  if (!isPlainObject(input)) return fail('Each contact must be a JSON object.');
  const write: ContactWrite = { fields: {}, custom: [] };

  for (const [key, value] of Object.entries(input)) {
    if (!STANDARD_FIELDS.has(key)) continue;
    if (key === 'Email') {
      if (typeof value !== 'string' || !isEmailShaped(value)) return fail('Invalid Email provided.');
      write.email = value;
      write.fields.Email = value;
      continue;
    }
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      write.fields[key] = value;
      continue;
    }
    return fail(`Invalid value for field ${key}.`);
  }

  if ('_NewEmail' in input) {
    const newEmail = input._NewEmail;
    if (typeof newEmail !== 'string' || !isEmailShaped(newEmail)) return fail('Invalid _NewEmail provided.');
    if (write.email === undefined) return fail('_NewEmail requires the Email of the contact to change.');
    write.newEmail = newEmail;
  }

  if ('unsubscribed' in input) {
    if (typeof input.unsubscribed !== 'boolean') return fail('unsubscribed must be a boolean.');
    write.unsubscribed = input.unsubscribed;
  }

  if ('_autopilot_list' in input) {
    const listId = input._autopilot_list;
    if (typeof listId !== 'string' || listId === '') return fail('Invalid _autopilot_list provided.');
    write.listId = listId;
  }

  if ('custom' in input) {
    if (!isPlainObject(input.custom)) return fail('custom must be an object.');
    for (const [key, value] of Object.entries(input.custom)) {
      const parsed = parseCustomField(key, value);
      if (typeof parsed === 'string') return fail(parsed);
      write.custom.push(parsed);
    }
  }

  return { ok: true, write };
}

/** `string--Plan--Name` → { name: 'Plan Name', fieldType: 'string' }; returns an error message on failure. */
export function parseCustomField(key: string, value: unknown): CustomWrite | string {
  const [type, ...nameParts] = key.split('--');
  const name = nameParts.join(' ');
  if (nameParts.length === 0 || name.trim() === '') {
    return `Custom field key "${key}" must look like type--Field--Name.`;
  }
  if (!(CUSTOM_FIELD_TYPES as readonly string[]).includes(type ?? '')) {
    return `Custom field key "${key}" has an unknown type (allowed: ${CUSTOM_FIELD_TYPES.join(', ')}).`;
  }
  const fieldType = type as CustomFieldType;
  if (value === null) return { name, fieldType, value: null };
  const normalised = normaliseCustomValue(fieldType, value);
  if (normalised === undefined) return `Custom field "${name}" expects a ${fieldType} value.`;
  return { name, fieldType, value: normalised };
}

function normaliseCustomValue(fieldType: CustomFieldType, value: unknown): FieldValue | undefined {
  switch (fieldType) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'date': {
      // Measured before the pattern runs: no ISO-8601 timestamp is longer.
      if (typeof value !== 'string' || value.length > MAX_DATE_TEXT || !ISO_DATE_START.test(value))
        return undefined;
      const ms = Date.parse(value);
      return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
    }
  }
}
