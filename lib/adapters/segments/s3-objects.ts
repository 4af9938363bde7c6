import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';
import { TransientError } from '#lib/domain/errors.ts';
import { SegmentSourceConfigError } from './errors.ts';

/*
 * The few S3 reads the S3 segment source needs: a bounded small object, a streamed body from a byte
 * offset, and ranged slices for Parquet. A missing object becomes a config error naming the key.
 */

export interface ObjectBody {
  /** The object's bytes from the requested offset on; `destroy()` it when stopping early. */
  stream: Readable;
  etag: string;
  size: number;
}

/** The object's ETag is no longer the one a cursor recorded: the file was rewritten. */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
  constructor(readonly key: string) {
    super(`s3 object ${key} changed since the cursor was issued`);
  }
}

const changed = (error: unknown): boolean =>
  (error as { name?: string }).name === 'PreconditionFailed' ||
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;

const notFound = (error: unknown): boolean => {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket';
};

/**
 * A missing object is the refresh's own problem: retrying cannot make it appear. Anything else (S3
 * unavailable or throttling, a network failure, a permission the deployment lacks) says nothing about
 * the refresh, so it is transient and whoever reads retries. Without `s3:ListBucket` S3 answers a
 * missing object with 403, which then reads as transient too.
 */
const unreadable = (bucket: string, key: string, error: unknown): Error => {
  if (notFound(error)) return new SegmentSourceConfigError(`s3://${bucket}/${key} does not exist`);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return new TransientError(
    `Cannot read s3://${bucket}/${key}: ${(error as Error).message}`,
    status === undefined ? {} : { status },
  );
};

export const headObject = async (
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ etag: string; size: number }> => {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: head.ETag ?? '', size: head.ContentLength ?? 0 };
  } catch (error) {
    throw unreadable(bucket, key, error);
  }
};

/**
 * The object's body from byte `offset` on (`offset` must be below its size). With `ifMatch`, an
 * object whose ETag differs is an `ObjectChangedError`, checked by S3 before the range is.
 */
export const openObject = async (
  client: S3Client,
  bucket: string,
  key: string,
  offset = 0,
  ifMatch?: string,
): Promise<ObjectBody> => {
  let out: GetObjectCommandOutput;
  try {
    out = await client.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: offset > 0 ? `bytes=${offset}-` : undefined,
        IfMatch: ifMatch,
      }),
    );
  } catch (error) {
    if (ifMatch !== undefined && changed(error)) throw new ObjectChangedError(key);
    throw unreadable(bucket, key, error);
  }
  const etag = out.ETag ?? '';
  if (ifMatch !== undefined && etag !== ifMatch) {
    (out.Body as Readable | undefined)?.destroy();
    throw new ObjectChangedError(key);
  }
  const total = out.ContentRange?.split('/')[1];
  const size = total !== undefined ? Number(total) : (out.ContentLength ?? 0);
  return { stream: out.Body as Readable, etag, size };
};

/** A whole small object as text; larger than `maxBytes` is a config error (checked before reading on). */
export const readSmallObject = async (
  client: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<string> => {
  const body = await openObject(client, bucket, key);
  if (body.size > maxBytes) {
    body.stream.destroy();
    throw new SegmentSourceConfigError(`s3://${bucket}/${key} is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of body.stream) {
    read += (chunk as Buffer).length;
    if (read > maxBytes) {
      body.stream.destroy();
      throw new SegmentSourceConfigError(`s3://${bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/** Decompressed bytes when `gzip`, else the stored bytes. */
export const decoded = (stream: Readable, gzip: boolean): Readable =>
  gzip ? stream.pipe(createGunzip()) : stream;

/** Hex SHA-256 of the object's stored bytes: one full streamed read. */
export const sha256Of = async (client: S3Client, bucket: string, key: string): Promise<string> => {
  const body = await openObject(client, bucket, key);
  const hash = createHash('sha256');
  for await (const chunk of body.stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/**
 * hyparquet's view of an object: each `slice` is one ranged GetObject. hyparquet reads the footer
 * first and then only the column chunks of the row groups asked for, so a large file is never
 * held whole.
 */
export const s3AsyncBuffer = (
  client: S3Client,
  bucket: string,
  key: string,
  byteLength: number,
  etag: string,
): AsyncBuffer => ({
  byteLength,
  async slice(start: number, end?: number): Promise<ArrayBuffer> {
    const last = (end ?? byteLength) - 1;
    if (last < start) return new ArrayBuffer(0);
    try {
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${last}`, IfMatch: etag }),
      );
      const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
      // A body collected into a buffer of its own is handed over, not copied a second time.
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
        return bytes.buffer as ArrayBuffer;
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    } catch (error) {
      if (changed(error)) throw new ObjectChangedError(key);
      throw unreadable(bucket, key, error);
    }
  },
});

/**
 * Keeps the most recent slices (at most `maxBytes` together), so consecutive pages inside one row
 * group reuse its column chunks, while reading a whole large file never accumulates it.
 * (hyparquet's own `cachedAsyncBuffer` keeps every slice for the buffer's lifetime.)
 */
export const recentSlices = (file: AsyncBuffer, maxBytes: number): AsyncBuffer => {
  const cache = new Map<string, { bytes: Promise<ArrayBuffer>; size: number }>();
  let held = 0;
  return {
    byteLength: file.byteLength,
    slice(start: number, end?: number): Promise<ArrayBuffer> {
      const key = `${start},${end ?? file.byteLength}`;
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key);
        cache.set(key, hit);
        return hit.bytes;
      }
      const size = (end ?? file.byteLength) - start;
      const bytes = Promise.resolve(file.slice(start, end));
      if (size <= maxBytes) {
        for (const [k, v] of cache) {
          if (held + size <= maxBytes) break;
          cache.delete(k);
          held -= v.size;
        }
        cache.set(key, { bytes, size });
        held += size;
        bytes.catch(() => {
          if (cache.get(key)?.bytes === bytes) {
            cache.delete(key);
            held -= size;
          }
        });
      }
      return bytes;
    },
  };
};
