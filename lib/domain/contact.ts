import type { CustomFieldType, StandardField } from './export-config.ts';

export type CustomValue = string | number | boolean;

/** A contact as the product models it; destinations encode it for the wire. */
export interface ContactData {
  email: string;
  fields: Partial<Record<StandardField, string>>;
  /** Keyed by the custom field's human name. */
  custom: Record<string, { type: CustomFieldType; value: CustomValue }>;
}

/** One profile as a segment source yields it. */
export interface SourceProfile {
  id: string;
  attributes: Record<string, unknown>;
}
