import { createHash, randomBytes } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { gzipMembers } from '#lib/adapters/dynamodb/checkpoints.ts';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import {
  bodyToFile,
  CorruptCheckpointError,
  inflateFileMembers,
  inflateMembers,
  isGzipMember,
} from './checkpoint-members.ts';

export { CorruptCheckpointError } from './checkpoint-members.ts';

/** The object metadata (`x-amz-meta-sha256`) holding the hex SHA-256 of the stored gzip bytes. */
const SHA256_META = 'sha256';
/** A large checkpoint's run key holds no text, only this metadata: the key of the object that does. */
const BODY_META = 'body';
const MAX_RUN_ID = 200;
const RUN_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Larger bodies go up as a multipart upload of parts up to this size: one PUT would do in S3 up to
 * 5 GB, but the local S3 (fauxqs) refuses a body over 11 MiB, and a 1,000,000-contact checkpoint is
 * ~45 MB of gzip. Every part but the last is at least S3's minimum.
 */
const PART_BYTES = 8 * 1024 * 1024;
const MIN_PART_BYTES = 5 * 1024 * 1024;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The object's bytes, read into one buffer of its declared length as they arrive: collecting the
 * chunks and then copying them (the SDK's `transformToByteArray`, then a Buffer copy of that) held a
 * 60 MB checkpoint two and three times over.
 */
const bodyBytes = async (key: string, out: GetObjectCommandOutput): Promise<Buffer> => {
  const body = out.Body as
    | (AsyncIterable<Uint8Array> & { transformToByteArray(): Promise<Uint8Array> })
    | undefined;
  if (body === undefined) return Buffer.alloc(0);
  const length = out.ContentLength;
  if (length === undefined || !(Symbol.asyncIterator in body)) {
    const whole = await body.transformToByteArray();
    return Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
  }
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body) {
    if (at + chunk.length > length)
      throw new CorruptCheckpointError(key, `its body is longer than its ${length} bytes`);
    bytes.set(chunk, at);
    at += chunk.length;
  }
  if (at < length) throw new CorruptCheckpointError(key, `its body ended at byte ${at} of ${length}`);
  return bytes;
};

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

const isMissing = (error: unknown): boolean =>
  (error as { name?: string }).name === 'NoSuchKey' || statusOf(error) === 404;

export interface S3CheckpointsOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix ending in `/`, e.g. `state/checkpoints/`; the stack grants the planner this prefix only. */
  prefix: string;
  /** Where a large body is written while it is read (Lambda: /tmp); default the OS's temp dir. */
  bodyDir?: string;
}

/**
 * `Checkpoints` as one gzip object per run, `<prefix><runId>.json.gz`: a 100,000-contact plan is one
 * PUT of about 1.5 MB, where the state table took ~1,300 write units in 300 KB chunks.
 *
 * S3 reads are strongly consistent after a write, and a PUT replaces the object whole, so a reader
 * sees the previous checkpoint or the new one, never a mix, and a save that dies leaves the previous
 * one. The SHA-256 in the object's metadata catches what that does not cover (a truncated or altered
 * object). A checkpoint past {@link PART_BYTES} of gzip is streamed to a body object of its own,
 * `<prefix><runId>.<random>.body.gz`, and the run key becomes an empty pointer to it carrying its
 * SHA-256 (see `save`). The bucket's lifecycle rule expires the prefix after 2 days (as the table's
 * TTL did), and the old versions a versioned bucket keeps of each replaced or deleted object a day later.
 */
export class S3Checkpoints implements Checkpoints {
  constructor(private readonly options: S3CheckpointsOptions) {
    if (!options.prefix.endsWith('/')) throw new Error('S3Checkpoints prefix: must end with "/"');
  }

  /** The object key of a run's checkpoint; the run id is checked, so it can never leave the prefix. */
  keyOf(runId: string): string {
    if (runId.length === 0 || runId.length > MAX_RUN_ID || !RUN_ID.test(runId)) {
      throw new Error(`checkpoint runId: expected 1 to ${MAX_RUN_ID} of A-Z a-z 0-9 _ -`);
    }
    return `${this.options.prefix}${runId}.json.gz`;
  }

  /** Where a large save of the run puts its text: beside the run key, new on every save. */
  private bodyKeyOf(runId: string): string {
    return `${this.options.prefix}${runId}.${randomBytes(6).toString('hex')}.body.gz`;
  }

  /**
   * Compresses the pieces as they come. A checkpoint of up to {@link PART_BYTES} of gzip is one PUT
   * of the run key, its SHA-256 in the metadata. A larger one is sent part by part while it is
   * compressed (held: one part, not the ~60 MB of a million-contact checkpoint) to a body object of
   * its own, and only then is the run key replaced by a pointer to it with the body's SHA-256: the
   * hash is known only at the end, and a save that dies before the pointer leaves the previous
   * checkpoint as it was. The body a replaced pointer named is deleted afterwards (the lifecycle rule
   * removes it when that fails, and a body whose save died).
   */
  async save(runId: string, data: string | Iterable<string>): Promise<void> {
    const key = this.keyOf(runId);
    const members = gzipMembers(data);
    const first: Buffer[] = [];
    let bytes = 0;
    let next = members.next();
    for (; !next.done && bytes <= PART_BYTES; next = members.next()) {
      first.push(next.value);
      bytes += next.value.length;
    }
    const previous = await this.bodyOf(key);
    if (next.done && bytes <= PART_BYTES) {
      const body = Buffer.concat(first, bytes);
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          ContentType: 'application/gzip',
          Metadata: { [SHA256_META]: sha256(body) },
          Body: body,
          ContentLength: body.length,
        }),
      );
    } else {
      const bodyKey = this.bodyKeyOf(runId);
      const rest = function* (): Generator<Buffer> {
        yield* first.splice(0);
        if (!next.done) yield next.value;
        yield* members;
      };
      const hash = await this.multipart(bodyKey, rest());
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Metadata: { [SHA256_META]: hash, [BODY_META]: bodyKey },
          Body: new Uint8Array(),
          ContentLength: 0,
        }),
      );
    }
    if (previous !== undefined) await this.deleteBody(previous);
  }

  /** The body object the run key points at, if it is a pointer (a HEAD: nothing is read). */
  private async bodyOf(key: string): Promise<string | undefined> {
    try {
      const out = await this.options.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      return out.Metadata?.[BODY_META];
    } catch (error) {
      if (isMissing(error) || statusOf(error) === 403) return undefined;
      throw error;
    }
  }

  private async deleteBody(bodyKey: string): Promise<void> {
    await this.options.client
      .send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: bodyKey }))
      .catch(() => undefined);
  }

  /**
   * Sends the members as one object, part by part as they come, and answers their SHA-256. The object
   * appears whole at completion (S3 never shows a part). Each part is whole members, from 5 MiB (but
   * the last) to {@link PART_BYTES}; a part is let go once sent.
   */
  private async multipart(key: string, members: Iterable<Buffer>): Promise<string> {
    const { client, bucket } = this.options;
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/gzip' }),
    );
    if (UploadId === undefined) throw new Error(`S3 gave no upload id for checkpoint ${key}`);
    const target = { Bucket: bucket, Key: key, UploadId };
    const hash = createHash('sha256');
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      let pending: Buffer[] = [];
      let size = 0;
      const send = async (): Promise<void> => {
        const chunk = Buffer.concat(pending, size);
        pending = [];
        size = 0;
        const PartNumber = parts.length + 1;
        const out = await client.send(
          new UploadPartCommand({ ...target, PartNumber, Body: chunk, ContentLength: chunk.length }),
        );
        parts.push({ PartNumber, ETag: out.ETag ?? '' });
      };
      for (const member of members) {
        if (size >= MIN_PART_BYTES && size + member.length > PART_BYTES) await send();
        hash.update(member);
        pending.push(member);
        size += member.length;
      }
      if (size > 0 || parts.length === 0) await send();
      await client.send(new CompleteMultipartUploadCommand({ ...target, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      // The bucket's lifecycle rule removes an upload whose abort fails too (after a day).
      await client.send(new AbortMultipartUploadCommand(target)).catch(() => undefined);
      throw error;
    }
    return hash.digest('hex');
  }

  /**
   * The text a gzip member at a time (a save writes ~1 MB of text per member), so a
   * million-contact checkpoint never exists as one string; integrity is checked before the first.
   */
  async load(runId: string): Promise<Iterable<string> | undefined> {
    const key = this.keyOf(runId);
    const out = await this.get(key);
    if (out === undefined) return undefined;
    const expected = out.Metadata?.[SHA256_META];
    if (expected === undefined) throw new CorruptCheckpointError(key, 'has no sha256 metadata');
    const bodyKey = out.Metadata?.[BODY_META];
    if (bodyKey === undefined) {
      const bytes = await bodyBytes(key, out);
      if (sha256(bytes) !== expected) {
        throw new CorruptCheckpointError(
          key,
          `its ${bytes.length} bytes do not match the sha256 it was saved with`,
        );
      }
      if (!isGzipMember(bytes, 0)) throw new CorruptCheckpointError(key, 'is not gzip');
      return inflateMembers(key, bytes);
    }
    // Only a body this adapter could have written for this run: never another run's, never outside.
    if (!bodyKey.startsWith(`${key.slice(0, -'.json.gz'.length)}.`) || !bodyKey.endsWith('.body.gz'))
      throw new CorruptCheckpointError(key, `points at ${bodyKey.slice(0, 300)}, not a body of its run`);
    await bodyBytes(key, out);
    const body = await this.get(bodyKey);
    if (body === undefined) throw new CorruptCheckpointError(key, `points at ${bodyKey}, which is gone`);
    // Past 8 MiB of gzip: to a file while it arrives, checked, then inflated a window at a time, so the
    // ~115 MB body of a million contacts is not held beside what is parsed from it.
    const file = await bodyToFile(
      bodyKey,
      (body.Body ?? []) as AsyncIterable<Uint8Array>,
      body.ContentLength ?? Number.POSITIVE_INFINITY,
      this.options.bodyDir ?? tmpdir(),
    );
    const first = Buffer.alloc(4);
    readSync(file.fd, first, 0, 4, 0);
    const problem =
      file.sha256 !== expected
        ? `its ${file.length} bytes do not match the sha256 it was saved with`
        : isGzipMember(first, 0)
          ? undefined
          : 'is not gzip';
    if (problem !== undefined) {
      closeSync(file.fd);
      throw new CorruptCheckpointError(bodyKey, problem);
    }
    return inflateFileMembers(bodyKey, file);
  }

  /** The object, or undefined when there is none. */
  private async get(key: string): Promise<GetObjectCommandOutput | undefined> {
    try {
      return await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    } catch (error) {
      if (isMissing(error)) return undefined;
      if (statusOf(error) === 403) {
        // S3 answers 403 for a missing key to a caller who may not list it; the stack grants the
        // planner s3:ListBucket on the prefix so that a run's first load reads as "no checkpoint".
        throw new Error(
          `Reading checkpoint s3 object ${key} was refused (403): the planner needs s3:GetObject on the key ` +
            'and s3:ListBucket on its prefix (a missing key answers 403 without the latter)',
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** Deleting a missing key succeeds in S3, as deleting a missing checkpoint must; a body goes too. */
  async delete(runId: string): Promise<void> {
    const key = this.keyOf(runId);
    const body = await this.bodyOf(key);
    await this.options.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
    if (body !== undefined) await this.deleteBody(body);
  }
}
