import { ValidationError } from '#lib/domain/errors.ts';

/** Custom field types `custom-field/create` takes (`aggregate` cannot be created through the API). */
export const ORTTO_FIELD_TYPES = [
  'text',
  'large_text',
  'integer',
  'decimal',
  'currency',
  'price',
  'date',
  'time',
  'bool',
  'phone',
  'single_select',
  'multi_select',
  'link',
  'object',
] as const;
export type OrttoFieldType = (typeof ORTTO_FIELD_TYPES)[number];

/**
 * The id prefix of each type, only where it was seen in a live answer; for the rest (large text,
 * time, decimal, ...) the evidence is a partner's mapping, and the returned id is taken as it is.
 */
const SEEN_PREFIX: Partial<Record<OrttoFieldType, string>> = {
  text: 'str',
  single_select: 'str',
  bool: 'bol',
  integer: 'int',
  phone: 'phn',
  date: 'dtz',
};

export interface OrttoCustomField {
  /** The id to merge values under, as Ortto returned it (`str:cm:plan`): stored, never derived. */
  id: string;
  name: string;
  displayType: string;
  /** The allowed values of a select field. */
  values?: string[];
}

export interface NewCustomField {
  name: string;
  type: OrttoFieldType;
  /** Required for single_select and multi_select, refused for the others. */
  values?: readonly string[];
  trackChanges?: boolean;
}

const isSelect = (type: string): boolean => type === 'single_select' || type === 'multi_select';

/** Whether an account's field can hold values of `type`: its display type, and its id's prefix where known. */
export const fieldHasType = (field: OrttoCustomField, type: OrttoFieldType): boolean => {
  if (field.displayType !== type) return false;
  const prefix = SEEN_PREFIX[type];
  return prefix === undefined || field.id.startsWith(`${prefix}:`);
};

/** The create body; throws ValidationError naming the field and the reason. */
export const encodeNewField = (field: NewCustomField): Record<string, unknown> => {
  const issues: { path: string; reason: string }[] = [];
  const name = field.name.trim();
  if (name === '' || name.length > 100) issues.push({ path: 'name', reason: 'expected 1 to 100 characters' });
  if (!(ORTTO_FIELD_TYPES as readonly string[]).includes(field.type))
    issues.push({ path: 'type', reason: `expected one of ${ORTTO_FIELD_TYPES.join(', ')}` });
  if (isSelect(field.type) && (field.values === undefined || field.values.length === 0))
    issues.push({ path: 'values', reason: `required for ${field.type}` });
  if (!isSelect(field.type) && field.values !== undefined)
    issues.push({ path: 'values', reason: 'only for single_select and multi_select' });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    name,
    type: field.type,
    track_changes: field.trackChanges ?? false,
    ...(field.values === undefined ? {} : { values: [...field.values] }),
  };
};
