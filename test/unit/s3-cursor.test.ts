import { describe, expect, it } from 'vitest';
import { InvalidSegmentCursorError } from '#lib/adapters/segments/errors.ts';
import { decodeS3Cursor, encodeS3Cursor, type S3Cursor } from '#lib/adapters/segments/s3-cursor.ts';

const cursor: S3Cursor = { v: 1, s: 'seg', r: 'r1', f: 1, o: 4096, n: 57, e: '"etag"', h: ['id', 'email'] };

describe('S3 segment cursors', () => {
  it('survive JSON serialisation and decode to what was encoded', () => {
    const encoded = encodeS3Cursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    const stored = JSON.parse(JSON.stringify({ cursor: encoded })).cursor as string;
    expect(decodeS3Cursor(stored, 'seg', 'r1', 2)).toEqual(cursor);
  });

  it.each([
    ['another segment', 'other', 'r1', 2, 'it was issued for segment "seg"'],
    ['another refresh', 'seg', 'r2', 2, 'it was issued for refresh "r1"'],
    ['a file the manifest no longer has', 'seg', 'r1', 1, 'file 1 is not in the manifest (1 files)'],
  ])('are refused for %s', (_, segmentId, refreshId, files, problem) => {
    const decode = () => decodeS3Cursor(encodeS3Cursor(cursor), segmentId, refreshId, files);
    expect(decode).toThrow(InvalidSegmentCursorError);
    expect(decode).toThrow(problem);
  });

  it('are refused when not issued by the S3 source', () => {
    expect(() => decodeS3Cursor('not a cursor!', 'seg', 'r1', 2)).toThrow('not base64url');
    const fileCursor = Buffer.from(JSON.stringify({ v: 1, s: 'seg', o: 0, n: 1, m: 0, z: 0 })).toString(
      'base64url',
    );
    expect(() => decodeS3Cursor(fileCursor, 'seg', 'r1', 2)).toThrow(/unexpected shape/);
  });
});
