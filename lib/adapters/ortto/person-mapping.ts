/** ContactData → an Ortto person: the field table of docs/ortto.md#field-mapping. */
import { parseIntegerText, parseNumberText } from '#lib/domain/coerce.ts';
import type { ContactData, CustomValue } from '#lib/domain/contact.ts';
import { type CustomFieldType, STANDARD_FIELDS, type StandardField } from '#lib/domain/export-config.ts';
import { fieldHasType, type OrttoCustomField, type OrttoFieldType } from './custom-fields.ts';
import { MAX_STR, MAX_TXT, type OrttoPerson, type OrttoValue } from './encoding.ts';

/** A product field type → the Ortto custom field type created for it. */
export const ORTTO_TYPE_OF: Readonly<Record<CustomFieldType, OrttoFieldType>> = {
  string: 'text',
  integer: 'integer',
  float: 'decimal',
  boolean: 'bool',
  date: 'date',
};

/** Existing Ortto fields that can hold a product type: a long-text field takes strings as well. */
const ACCEPTED: Readonly<Record<CustomFieldType, readonly OrttoFieldType[]>> = {
  string: ['text', 'large_text'],
  integer: ['integer'],
  float: ['decimal'],
  boolean: ['bool'],
  date: ['date'],
};

const text = (v: string): OrttoValue => v;
const geo = (v: string): OrttoValue => ({ name: v });

/**
 * Standard fields Ortto has a built-in for (ids from Ortto's merge reference). The rest go to a
 * custom text field of the same name. `parse_with_country_code` lets Ortto read a number written
 * with its country code; Ortto has one phone field, so MobilePhone is a custom field.
 */
export const BUILT_IN_FIELDS: Readonly<Partial<Record<StandardField, { id: string; encode: typeof text }>>> =
  {
    FirstName: { id: 'str::first', encode: text },
    LastName: { id: 'str::last', encode: text },
    Phone: { id: 'phn::phone', encode: (v) => ({ phone: v, parse_with_country_code: true }) },
    MailingCity: { id: 'geo::city', encode: geo },
    MailingState: { id: 'geo::region', encode: geo },
    MailingCountry: { id: 'geo::country', encode: geo },
    MailingPostalCode: { id: 'str::postal', encode: text },
  };

const STANDARD = new Set<string>(STANDARD_FIELDS);

/** A custom field a contact writes: its name in Ortto and the product type of its value. */
export interface WantedField {
  name: string;
  type: CustomFieldType;
}

/** Every value a contact writes outside Ortto's built-ins, standard fields first. */
export const wantedFields = (contact: ContactData): Array<WantedField & { value: CustomValue }> => {
  const wanted: Array<WantedField & { value: CustomValue }> = [];
  for (const [name, value] of Object.entries(contact.fields)) {
    if (!STANDARD.has(name) || typeof value !== 'string') continue;
    if (BUILT_IN_FIELDS[name as StandardField] === undefined) wanted.push({ name, type: 'string', value });
  }
  for (const [name, { type, value }] of Object.entries(contact.custom)) wanted.push({ name, type, value });
  return wanted;
};

/** Whether an account's field can hold values of the product's `type`. */
export const holds = (field: OrttoCustomField, type: CustomFieldType): boolean =>
  ACCEPTED[type].some((t) => fieldHasType(field, t));

const MAX_DATE_TEXT = 100;

/** A value as Ortto wants it for `field`, or why it cannot be sent. Decimals go ×1000, dates as ISO. */
const valueFor = (field: OrttoCustomField, type: CustomFieldType, value: CustomValue): OrttoValue | Error => {
  switch (type) {
    case 'string': {
      const s = String(value);
      const max = field.displayType === 'large_text' ? MAX_TXT : MAX_STR;
      return s.length > max ? new Error(`longer than ${max} characters`) : s;
    }
    case 'integer': {
      const n = typeof value === 'string' ? parseIntegerText(value.trim()) : value;
      return typeof n === 'number' && Number.isSafeInteger(n) ? n : new Error('not a whole number');
    }
    case 'float': {
      const n = typeof value === 'string' ? parseNumberText(value.trim()) : value;
      const scaled = typeof n === 'number' ? Math.round(n * 1000) : Number.NaN;
      return Number.isSafeInteger(scaled) ? scaled : new Error('not a number Ortto can hold (×1000)');
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : new Error('not true or false');
    case 'date': {
      const ms =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.length <= MAX_DATE_TEXT
            ? Date.parse(value.trim())
            : Number.NaN;
      const date = new Date(ms);
      return Number.isNaN(date.getTime()) ? new Error('not a date') : date.toISOString();
    }
  }
};

/** How each wanted field resolved for this account: the field, or why it cannot be written. */
export type ResolvedFields = ReadonlyMap<string, OrttoCustomField | { refused: string }>;

export const fieldKey = (w: WantedField): string => `${w.type}\u0000${w.name.toLowerCase()}`;

/**
 * The Ortto person for a contact, or every reason it cannot be sent (each naming the field). The
 * consent fields are never among its fields: no product field maps to them.
 */
export const toOrttoPerson = (contact: ContactData, resolved: ResolvedFields): OrttoPerson | string[] => {
  const fields: Record<string, OrttoValue> = { 'str::email': contact.email };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(contact.fields)) {
    const builtIn = STANDARD.has(name) ? BUILT_IN_FIELDS[name as StandardField] : undefined;
    if (builtIn === undefined || typeof value !== 'string') continue;
    if (builtIn.id.startsWith('str:') && value.length > MAX_STR)
      problems.push(`field "${name}": longer than ${MAX_STR} characters`);
    else fields[builtIn.id] = builtIn.encode(value);
  }
  for (const w of wantedFields(contact)) {
    const field = resolved.get(fieldKey(w));
    if (field === undefined || 'refused' in field) {
      problems.push(field?.refused ?? `field "${w.name}": not resolved`);
      continue;
    }
    if (!holds(field, w.type)) {
      problems.push(
        `field_type_clash: Ortto's field "${w.name}" is ${field.displayType.slice(0, 40)}, ` +
          `the export writes ${w.type} (${ORTTO_TYPE_OF[w.type]})`,
      );
      continue;
    }
    const value = valueFor(field, w.type, w.value);
    if (value instanceof Error) problems.push(`field "${w.name}": ${value.message}`);
    else fields[field.id] = value;
  }
  if (problems.length > 0) return problems;
  const tags = contact.tags;
  return {
    fields,
    ...(tags === undefined || tags.set.length === 0 ? {} : { tags: [...tags.set] }),
    ...(tags === undefined || tags.unset.length === 0 ? {} : { unsetTags: [...tags.unset] }),
  };
};
