/** Field ids and value checks for person/merge (docs/ortto-standin.md#fields). */

/** Built-in person fields; `str::person_id` only identifies a person and is never stored. */
export const BUILT_IN_FIELDS: ReadonlySet<string> = new Set([
  'str::first',
  'str::last',
  'str::email',
  'str::ei',
  'str::person_id',
  'phn::phone',
  'geo::city',
  'geo::country',
  'geo::region',
  'str::postal',
  'dtz::b',
  'str::language',
  'bol::gdpr',
  'bol::p',
  'bol::sp',
  'str::s-ctx',
  'str::u-ctx',
]);

export const PERMISSION_FIELDS = ['bol::p', 'bol::sp'] as const;

export const MAX_STR = 255;
export const MAX_TEXT = 4000;

/** Custom field types → id prefix, as seen live (str, bol, int, phn, dtz) and in a partner's mapping. */
export const TYPE_PREFIX: Readonly<Record<string, string>> = {
  text: 'str',
  single_select: 'str',
  link: 'str',
  large_text: 'txt',
  integer: 'int',
  decimal: 'int',
  currency: 'int',
  price: 'int',
  date: 'dtz',
  time: 'tme',
  bool: 'bol',
  phone: 'phn',
  multi_select: 'sst',
  object: 'obj',
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a value does not fit its field id's prefix, or undefined when it fits. null always fits (it clears). */
export function valueProblem(fieldId: string, value: unknown): string | undefined {
  if (value === null) return undefined;
  const prefix = fieldId.slice(0, fieldId.indexOf(':'));
  switch (prefix) {
    case 'str':
      if (typeof value !== 'string') return 'expected a string';
      return value.length > MAX_STR ? `longer than ${MAX_STR} characters` : undefined;
    case 'txt':
      if (typeof value !== 'string') return 'expected a string';
      return value.length > MAX_TEXT ? `longer than ${MAX_TEXT} characters` : undefined;
    case 'int':
      return Number.isSafeInteger(value) ? undefined : 'expected an integer (decimals are sent x1000)';
    case 'bol':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'sst':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : 'expected an array of strings';
    case 'dtz':
    case 'tme':
      return typeof value === 'string' || isObject(value) ? undefined : 'expected a date object or string';
    case 'phn':
    case 'geo':
    case 'obj':
      return isObject(value) ? undefined : 'expected an object';
    default:
      return 'unknown field type';
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const isEmail = (value: string): boolean => value.length <= 254 && EMAIL.test(value);

/** `name` → the slug in `str:cm:<slug>`: lower case, runs of anything else than a-z0-9 as '-'. */
export const slug = (name: string): string =>
  name
    .slice(0, 200)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
