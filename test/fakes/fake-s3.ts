import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';

/** S3's answer for a key that does not exist. */
export const noSuchKey = (): Error =>
  Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });

/**
 * An S3 client answering GetObject/HeadObject from `objects`, honouring `Range: bytes=N-`, and
 * counting the bodies it opens (`gets`, as `key@offset`); other keys fail with `missing`. For unit
 * tests of edge cases; the S3 suites run against fauxqs.
 */
export const fakeS3 = (
  objects: Record<string, string>,
  missing: () => Error = noSuchKey,
): { client: S3Client; gets: string[] } => {
  const gets: string[] = [];
  const client = {
    send: async (command: { input: { Key: string; Range?: string } }) => {
      const text = objects[command.input.Key];
      if (text === undefined) throw missing();
      const all = Buffer.from(text);
      const range = command.input.Range ?? '';
      const from = range.length < 40 ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
      gets.push(`${command.input.Key}@${from}`);
      return {
        Body: Readable.from([all.subarray(from)]),
        ETag: '"etag-1"',
        ContentLength: all.length - from,
        ...(from > 0 ? { ContentRange: `bytes ${from}-${all.length - 1}/${all.length}` } : {}),
      };
    },
  } as unknown as S3Client;
  return { client, gets };
};
