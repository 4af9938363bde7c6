import type { CustomValue } from './contact.ts';
import type { CustomFieldType } from './export-config.ts';

export type Coerced<T> = { ok: true; value: T | undefined } | { ok: false; reason: string };

const EMPTY: Coerced<never> = { ok: true, value: undefined };
const MAX_TEXT = 10_000;

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
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

const coerceInteger = (raw: unknown): Coerced<number> => {
  if (isBlank(raw)) return EMPTY;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && INTEGER_TEXT.test(raw.trim())) n = Number(raw.trim());
  else if (typeof raw === 'bigint') n = Number(raw);
  else return { ok: false, reason: 'not_an_integer' };
  if (!Number.isSafeInteger(n)) return { ok: false, reason: 'not_an_integer' };
  return { ok: true, value: n };
};

const coerceFloat = (raw: unknown): Coerced<number> => {
  if (isBlank(raw)) return EMPTY;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && NUMBER_TEXT.test(raw.trim())) n = Number(raw.trim());
  else return { ok: false, reason: 'not_a_number' };
  if (!Number.isFinite(n)) return { ok: false, reason: 'not_a_number' };
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

/** Epoch milliseconds from a Date, an ISO-8601 / RFC-1123 string, or epoch seconds/milliseconds. */
export const toEpochMillis = (raw: unknown): number | undefined => {
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? undefined : raw.getTime();
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    // Ten-digit values are epoch seconds; thirteen-digit ones milliseconds.
    return Math.abs(raw) < 1e11 ? raw * 1000 : raw;
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    const t = raw.trim();
    if (INTEGER_TEXT.test(t)) return toEpochMillis(Number(t));
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
};

const coerceDate = (raw: unknown): Coerced<string> => {
  if (isBlank(raw)) return EMPTY;
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
