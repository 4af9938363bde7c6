import type { CustomValue } from './contact.ts';
import type { CustomFieldType } from './export-config.ts';

export type Coerced<T> = { ok: true; value: T | undefined } | { ok: false; reason: string };

const EMPTY: Coerced<never> = { ok: true, value: undefined };

/*
 * Every value is measured before any pattern sees it, so no attribute can make coercion slow
 * (a 400 KB digit run once took minutes). Limits, in UTF-16 code units after trimming:
 * - text: 10,000;
 * - integer and float: 64 (a double has 17 significant digits; 64 leaves room for signs,
 *   leading zeros and an exponent, and anything longer is not a number anyone meant);
 * - date: 100 (ISO-8601 with nanoseconds and an offset is 35; `Date#toString` with a long
 *   zone name is under 90).
 * Longer values are refused as `too_long`.
 */
const MAX_TEXT = 10_000;
export const MAX_NUMBER_TEXT = 64;
export const MAX_DATE_TEXT = 100;

const isBlank = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** Text fields: scalars become trimmed strings; structures are refused rather than stringified. */
export const coerceText = (raw: unknown): Coerced<string> => {
  if (isBlank(raw)) return EMPTY;
  let text: string;
  if (typeof raw === 'string') text = raw.trim();
  else if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, reason: 'not_a_finite_number' };
    text = String(raw);
  } else if (typeof raw === 'boolean' || typeof raw === 'bigint') text = String(raw);
  else if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) return { ok: false, reason: 'not_a_date' };
    text = raw.toISOString();
  } else return { ok: false, reason: 'not_a_scalar' };
  if (text.length > MAX_TEXT) return { ok: false, reason: 'too_long' };
  return { ok: true, value: text };
};

const INTEGER_TEXT = /^[+-]?\d+$/;
// `\d+(?:\.\d*)?`, not `\d+\.?\d*`: the latter splits a digit run between two quantifiers in n
// ways and backtracks quadratically before failing on a trailing bad character.
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** A decimal integer text (already trimmed) → its value; undefined when it is not one or too long. */
export const parseIntegerText = (text: string): number | undefined =>
  text.length <= MAX_NUMBER_TEXT && INTEGER_TEXT.test(text) ? Number(text) : undefined;

/** A decimal number text (already trimmed, exponent allowed) → its value; undefined otherwise. */
export const parseNumberText = (text: string): number | undefined =>
  text.length <= MAX_NUMBER_TEXT && NUMBER_TEXT.test(text) ? Number(text) : undefined;

const coerceInteger = (raw: unknown): Coerced<number> => {
  if (isBlank(raw)) return EMPTY;
  let n: number | undefined;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    const t = raw.trim();
    if (t.length > MAX_NUMBER_TEXT) return { ok: false, reason: 'too_long' };
    n = parseIntegerText(t);
  } else if (typeof raw === 'bigint') n = Number(raw);
  if (n === undefined || !Number.isSafeInteger(n)) return { ok: false, reason: 'not_an_integer' };
  return { ok: true, value: n };
};

const coerceFloat = (raw: unknown): Coerced<number> => {
  if (isBlank(raw)) return EMPTY;
  let n: number | undefined;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    const t = raw.trim();
    if (t.length > MAX_NUMBER_TEXT) return { ok: false, reason: 'too_long' };
    n = parseNumberText(t);
  }
  if (n === undefined || !Number.isFinite(n)) return { ok: false, reason: 'not_a_number' };
  return { ok: true, value: n };
};

const TRUE_TEXT = new Set(['true', 'yes', 'y', '1']);
const FALSE_TEXT = new Set(['false', 'no', 'n', '0']);

const coerceBoolean = (raw: unknown): Coerced<boolean> => {
  if (isBlank(raw)) return EMPTY;
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  if (raw === 1 || raw === 0) return { ok: true, value: raw === 1 };
  if (typeof raw === 'string') {
    const t = raw.trim().toLowerCase();
    if (TRUE_TEXT.has(t)) return { ok: true, value: true };
    if (FALSE_TEXT.has(t)) return { ok: true, value: false };
  }
  return { ok: false, reason: 'not_a_boolean' };
};

/**
 * Epoch milliseconds from a Date, an ISO-8601 / RFC-1123 string, or epoch seconds/milliseconds.
 * A string over MAX_DATE_TEXT is not a date.
 */
export const toEpochMillis = (raw: unknown): number | undefined => {
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? undefined : raw.getTime();
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    // Ten-digit values are epoch seconds; thirteen-digit ones milliseconds.
    return Math.abs(raw) < 1e11 ? raw * 1000 : raw;
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    const t = raw.trim();
    if (t.length > MAX_DATE_TEXT) return undefined;
    if (INTEGER_TEXT.test(t)) return toEpochMillis(Number(t));
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
};

const coerceDate = (raw: unknown): Coerced<string> => {
  if (isBlank(raw)) return EMPTY;
  if (typeof raw === 'string' && raw.trim().length > MAX_DATE_TEXT) return { ok: false, reason: 'too_long' };
  const ms = toEpochMillis(raw);
  if (ms === undefined || Math.abs(ms) > 8.64e15) return { ok: false, reason: 'not_a_date' };
  return { ok: true, value: new Date(ms).toISOString() };
};

export const coerceCustom = (type: CustomFieldType, raw: unknown): Coerced<CustomValue> => {
  switch (type) {
    case 'string':
      return coerceText(raw);
    case 'integer':
      return coerceInteger(raw);
    case 'float':
      return coerceFloat(raw);
    case 'boolean':
      return coerceBoolean(raw);
    case 'date':
      return coerceDate(raw);
  }
};
