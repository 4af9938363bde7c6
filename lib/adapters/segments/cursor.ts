import type * as z from 'zod';
import { InvalidSegmentCursorError } from './errors.ts';

/** Cursors are base64url JSON: opaque to callers, safe in URLs and SQS bodies. */
export const encodeCursor = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes and validates a cursor; anything else is an `InvalidSegmentCursorError` naming it. */
export const decodeCursor = <T>(cursor: string, schema: z.ZodType<T>, segmentId: string): T => {
  if (!BASE64URL.test(cursor)) {
    throw new InvalidSegmentCursorError(segmentId, cursor, 'not base64url');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidSegmentCursorError(segmentId, cursor, 'not base64url-encoded JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new InvalidSegmentCursorError(
      segmentId,
      cursor,
      `unexpected shape (${where}${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
};

/** A positive integer page size, or a RangeError: a zero or fractional limit is a caller bug. */
export const checkLimit = (limit: number): void => {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Page limit must be a positive integer, got ${limit}`);
  }
};
