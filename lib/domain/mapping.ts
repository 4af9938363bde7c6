import { coerceCustom, coerceText, toEpochMillis } from './coerce.ts';
import type { ContactData, SourceProfile } from './contact.ts';
import { checkEmail, type EmailRejection } from './email.ts';
import type { DataMatching, StandardField } from './export-config.ts';

/** A mapped contact ready for merging: `key` is the case-insensitive email identity. */
export interface MappedContact {
  key: string;
  profileId: string;
  updatedAt: number | undefined;
  data: ContactData;
}

/** A value dropped from one contact (the contact itself is still exported). */
export interface FieldIssue {
  field: string;
  reason: string;
}

export type MapOutcome =
  | { ok: true; contact: MappedContact; fieldIssues: FieldIssue[] }
  | { ok: false; reason: `email_${EmailRejection}` };

/** Reads `a.b.c` as a nested path when the profile has no attribute literally named so. */
export const readAttribute = (attributes: Record<string, unknown>, name: string): unknown => {
  if (Object.hasOwn(attributes, name)) return attributes[name];
  if (!name.includes('.')) return undefined;
  let value: unknown = attributes;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
};

/**
 * Maps one profile with the export's data matching. An invalid email skips the profile; a value that
 * cannot be coerced is dropped from the contact and reported as a field issue.
 */
export const mapProfile = (profile: SourceProfile, matching: DataMatching): MapOutcome => {
  const email = checkEmail(readAttribute(profile.attributes, matching.email));
  if (!email.ok) return { ok: false, reason: `email_${email.reason}` };

  const fieldIssues: FieldIssue[] = [];
  const data: ContactData = { email: email.email, fields: {}, custom: {} };

  for (const [target, source] of Object.entries(matching.fields) as Array<[StandardField, string]>) {
    const coerced = coerceText(readAttribute(profile.attributes, source));
    if (!coerced.ok) fieldIssues.push({ field: target, reason: coerced.reason });
    else if (coerced.value !== undefined) data.fields[target] = coerced.value;
  }
  for (const field of matching.custom) {
    const coerced = coerceCustom(field.type, readAttribute(profile.attributes, field.source));
    if (!coerced.ok) fieldIssues.push({ field: field.name, reason: coerced.reason });
    else if (coerced.value !== undefined)
      data.custom[field.name] = { type: field.type, value: coerced.value };
  }

  let updatedAt: number | undefined;
  if (matching.updatedAt !== undefined) {
    const raw = readAttribute(profile.attributes, matching.updatedAt);
    updatedAt = toEpochMillis(raw);
    if (updatedAt === undefined && raw !== undefined && raw !== null && raw !== '') {
      fieldIssues.push({ field: matching.updatedAt, reason: 'not_a_date' });
    }
  }
  return { ok: true, contact: { key: email.key, profileId: profile.id, updatedAt, data }, fieldIssues };
};
