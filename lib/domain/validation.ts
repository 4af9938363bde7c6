import * as z from 'zod';
import { ValidationError } from './errors.ts';

export interface Issue {
  path: string;
  reason: string;
}

const joinPath = (parts: ReadonlyArray<PropertyKey>): string =>
  parts
    .map(String)
    .filter((p) => p !== '')
    .join('.');

/** Turns zod issues into `{path, reason}` pairs a user can act on ("dataMatching.email: required"). */
export const toIssues = (error: z.ZodError, prefix = ''): Issue[] =>
  error.issues.flatMap((issue): Issue[] => {
    const base = [prefix, ...issue.path];
    // One issue per unknown key, so the path names the offending field itself.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath([...base, key]), reason: 'is not a known field' }));
    }
    return [{ path: joinPath(base), reason: issue.message }];
  });

/**
 * Fields `value` leaves out that `shape` would fill with a default. A PUT replaces the whole
 * resource, so a field left out would silently reset to its default: it must be sent.
 */
export const omittedDefaults = (shape: Record<string, z.ZodType>, value: unknown, prefix = ''): Issue[] => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(shape).flatMap(([key, schema]) => {
    if (Object.hasOwn(value, key)) return [];
    const filled = schema.safeParse(undefined);
    if (!filled.success || filled.data === undefined) return [];
    return [{ path: joinPath([prefix, key]), reason: 'is required: a PUT replaces the whole document' }];
  });
};

/** Parses `value` or throws a ValidationError naming every bad field. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toIssues(result.error, prefix));
  return result.data;
};

/**
 * Longest id accepted, in UTF-8 bytes. Ids this product mints are under 40 bytes; stored keys add a
 * prefix (`EXPORT#`, `RUNS#`) and the run index sorts by `createdAt#runId`, and DynamoDB refuses sort
 * keys over 1 KiB and partition keys over 2 KiB: 256 leaves every key well inside both.
 */
export const MAX_ID_BYTES = 256;

/** C0 and C1 control characters, DEL included (tabs and line breaks too). */
const CONTROL = /\p{Cc}/u;
/**
 * A UTF-16 surrogate without its partner (with `u`, a pair reads as one code point, so only a lone
 * one is `Cs`): not text, and no JSON encoder round-trips it.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `value` is not an acceptable id, or undefined when it is. */
export const idIssue = (value: string): string | undefined => {
  if (value === '') return 'must not be empty';
  // A character is at least one byte, so the length bounds the encoding work.
  if (value.length > MAX_ID_BYTES || new TextEncoder().encode(value).length > MAX_ID_BYTES) {
    return `must be at most ${MAX_ID_BYTES} bytes`;
  }
  if (CONTROL.test(value) || LONE_SURROGATE.test(value)) return 'must not contain control characters';
  return undefined;
};

/** An id in a body or query: the same rule as in a path. */
export const idText = () =>
  z.string().superRefine((value, ctx) => {
    const reason = idIssue(value);
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
  });

/**
 * A name people read back (a display name, an export name, a list title): trimmed, non-empty, at
 * most `max` characters, without control characters (which render as nothing or break log lines)
 * or lone surrogates (which no JSON consumer round-trips).
 */
export const nameText = (max = 200) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(
      (v) => v.length > max || !CONTROL.test(v),
      'must not contain control characters (tabs, line breaks, …)',
    )
    .refine((v) => v.length > max || !LONE_SURROGATE.test(v), 'must not contain unpaired UTF-16 surrogates');
