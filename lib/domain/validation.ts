import type * as z from 'zod';
import { ValidationError } from './errors.ts';

/** Turns zod issues into `{path, reason}` pairs a user can act on ("dataMatching.email: required"). */
export const toIssues = (error: z.ZodError, prefix = ''): Array<{ path: string; reason: string }> =>
  error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path, reason: issue.message };
  });

/** Parses `value` or throws a ValidationError naming every bad field. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toIssues(result.error, prefix));
  return result.data;
};
