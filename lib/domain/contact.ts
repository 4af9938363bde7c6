import type { CustomFieldType, StandardField } from './export-config.ts';

export type CustomValue = string | number | boolean;

/** A contact as the product models it; destinations encode it for the wire. */
export interface ContactData {
  email: string;
  fields: Partial<Record<StandardField, string>>;
  /** Keyed by the custom field's human name. */
  custom: Record<string, { type: CustomFieldType; value: CustomValue }>;
  /** Tag mode only (Ortto): the membership this write carries; see {@link TagChanges}. */
  tags?: TagChanges;
}

/**
 * Membership as tags, one per segment, carried by the contact's own write: `set` names every
 * segment the contact is in (re-adding a tag removed by hand costs nothing more), `unset` every one
 * it leaves. `existingOnly` marks a contact that left all of them: it is updated if the destination
 * knows it and never created.
 */
export interface TagChanges {
  set: string[];
  unset: string[];
  existingOnly: boolean;
}

/** One profile as a segment source yields it. */
export interface SourceProfile {
  id: string;
  attributes: Record<string, unknown>;
}
