import type * as z from 'zod';
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

/** Parses `value` or throws a ValidationError naming every bad field. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toIssues(result.error, prefix));
  return result.data;
};
