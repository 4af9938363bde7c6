import * as z from 'zod';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { InvalidSegmentCursorError } from './errors.ts';

/**
 * Where the next page of an S3 segment starts: file `f` of the segment's manifest entry, at `o`
 * (the byte offset in the decompressed text for CSV/JSONL, the row index for Parquet) and physical
 * line or row number `n`. `e` is that file's ETag: a rewritten file fails loudly instead of
 * resuming at an offset that now points elsewhere. `h` carries a CSV file's header.
 */
export const S3CursorSchema = z
  .object({
    v: z.literal(1),
    s: z.string(),
    r: z.string(),
    f: z.number().int().nonnegative(),
    o: z.number().int().nonnegative(),
    n: z.number().int().positive(),
    e: z.string(),
    h: z.array(z.string()).optional(),
  })
  .strict();
export type S3Cursor = z.infer<typeof S3CursorSchema>;

export const encodeS3Cursor = (cursor: S3Cursor): string => encodeCursor(cursor);

/** Decodes a cursor and checks it belongs to this segment, refresh and manifest entry. */
export const decodeS3Cursor = (
  cursor: string,
  segmentId: string,
  refreshId: string,
  fileCount: number,
): S3Cursor => {
  const c = decodeCursor(cursor, S3CursorSchema, segmentId);
  const fail = (problem: string): never => {
    throw new InvalidSegmentCursorError(segmentId, cursor, problem);
  };
  if (c.s !== segmentId) fail(`it was issued for segment "${c.s}"`);
  if (c.r !== refreshId) fail(`it was issued for refresh "${c.r}"`);
  if (c.f >= fileCount) fail(`file ${c.f} is not in the manifest (${fileCount} files)`);
  return c;
};

/** The refresh a cursor was issued for, so a read that spans refreshes resumes in the right one. */
export const refreshOfS3Cursor = (cursor: string, segmentId: string): string =>
  decodeCursor(cursor, S3CursorSchema, segmentId).r;
