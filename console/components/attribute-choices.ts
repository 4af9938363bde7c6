import { type DataMatchingForm, STANDARD_FIELDS, type StandardField } from './export-model.ts';

/** A segment as GET /segments lists it: `attributes` is absent when its source does not know them. */
export interface SegmentAttributes {
  id: string;
  attributes?: readonly string[] | undefined;
}

export interface AttributeChoice {
  name: string;
  /** How many of the selected segments report carrying it. */
  carriedBy: number;
}

export interface AttributeChoices {
  /** Selected segments the list holds. */
  selected: number;
  /** Of those, how many report their attributes at all. */
  reporting: number;
  /** Not yet mapped, ordered by name as a reader scans them (case aside). */
  choices: AttributeChoice[];
}

/** An export maps profile fields of at most 200 characters: a longer name could not be chosen. */
const MAX_NAME = 200;
/** Names per segment, and names offered: enough for any real schema, few enough for one select. */
const MAX_CHOICES = 1_000;
/** As the API's custom field names allow (lib/domain/export-config.ts). */
const MAX_CUSTOM_NAME = 100;

const byName = (a: AttributeChoice, b: AttributeChoice): number => {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
};

/** The union of the selected segments' attributes, with how many carry each, less those mapped. */
export const attributeChoices = (
  segments: readonly SegmentAttributes[] | undefined,
  selectedIds: readonly string[],
  mapped: ReadonlySet<string>,
): AttributeChoices => {
  const chosen = (segments ?? []).filter((s) => selectedIds.includes(s.id));
  const counts = new Map<string, number>();
  let reporting = 0;
  for (const segment of chosen) {
    if (segment.attributes === undefined) continue;
    reporting++;
    for (const name of new Set(segment.attributes.slice(0, MAX_CHOICES))) {
      if (name.length > MAX_NAME || mapped.has(name)) continue;
      if (counts.has(name) || counts.size < MAX_CHOICES) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const choices = [...counts].map(([name, carriedBy]) => ({ name, carriedBy })).sort(byName);
  return { selected: chosen.length, reporting, choices };
};

export const segmentsText = (n: number): string => `${n} selected segment${n === 1 ? '' : 's'}`;

/** What the picker can offer, in words, when it offers nothing or speaks for only some segments. */
export const offerNote = ({ selected, reporting, choices }: AttributeChoices): string | undefined => {
  if (selected === 0) return 'Choose segments to see the profile attributes they carry.';
  const byHand = 'type attribute names by hand below.';
  if (reporting === 0)
    return selected === 1
      ? `The selected segment does not report the attributes its profiles carry; ${byHand}`
      : `None of the ${segmentsText(selected)} reports the attributes its profiles carry; ${byHand}`;
  const silent = selected - reporting;
  const partly =
    silent === 0
      ? ''
      : ` ${silent} of the ${segmentsText(selected)} ${silent === 1 ? 'does not report its' : 'do not report their'} attributes.`;
  if (choices.length === 0) return `Every attribute the selected segments report is mapped.${partly}`;
  return partly === '' ? undefined : partly.trim();
};

/** The attributes the form already reads into some Autopilot field (the last-update one aside). */
export const mappedAttributes = (matching: DataMatchingForm): Set<string> =>
  new Set(
    [matching.email, ...Object.values(matching.fields), ...matching.custom.map((c) => c.source)]
      .map((source) => (source ?? '').trim())
      .filter((source) => source !== ''),
  );

/** Letters and digits only, lower-cased: `first_name`, `First Name` and `FirstName` compare equal. */
const squash = (text: string): string =>
  text
    .slice(0, MAX_NAME)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

const STANDARD_BY_SQUASHED = new Map<string, StandardField>(STANDARD_FIELDS.map((f) => [squash(f), f]));

/**
 * A custom field's name proposed from an attribute (`lifetime_value` → "Lifetime value"): words
 * split at separators, so the name holds no "--", control character or reserved spelling, and
 * numbered when the export already has a field of that name. The person can still change it.
 */
export const customFieldName = (attribute: string, taken: readonly string[]): string => {
  const words = attribute
    .slice(0, MAX_NAME)
    .split(/[\s_.\-\p{Cc}\p{Cs}]+/u)
    .filter((w) => w !== '');
  const joined = words
    .join(' ')
    .slice(0, MAX_CUSTOM_NAME - 4)
    .trim();
  const base = joined === '' ? 'Field' : `${joined.charAt(0).toUpperCase()}${joined.slice(1)}`;
  let name = base;
  for (let n = 2; taken.includes(name); n++) name = `${base} ${n}`;
  return name;
};

export type Added = { kind: 'standard'; field: StandardField } | { kind: 'custom'; index: number };

/**
 * Picking an attribute adds a mapping row: the standard field it names (`first_name` → FirstName)
 * when that field is not mapped yet, otherwise a custom field, a string until the person types it.
 */
export const addAttribute = (
  matching: DataMatchingForm,
  attribute: string,
): { next: DataMatchingForm; added: Added } => {
  const field = STANDARD_BY_SQUASHED.get(squash(attribute));
  if (field !== undefined && (matching.fields[field] ?? '').trim() === '') {
    return {
      next: { ...matching, fields: { ...matching.fields, [field]: attribute } },
      added: { kind: 'standard', field },
    };
  }
  const name = customFieldName(
    attribute,
    matching.custom.map((c) => c.name),
  );
  return {
    next: { ...matching, custom: [...matching.custom, { name, type: 'string', source: attribute }] },
    added: { kind: 'custom', index: matching.custom.length },
  };
};
