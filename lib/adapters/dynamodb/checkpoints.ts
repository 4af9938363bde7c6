import { createHash, randomUUID } from 'node:crypto';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import { batchWrite, deleteRequests, queryKeys } from './batch-write.ts';
import {
  CorruptItemError,
  expiresAt,
  fromItem,
  type Item,
  keys,
  pad,
  type TableContext,
  toItem,
} from './records.ts';

/** Characters of base64 per chunk item: well under DynamoDB's 400 KB item limit. */
export const CHUNK_CHARS = 300_000;

const HEAD_SK = 'CKPT#HEAD';
const HeadSchema = z.object({
  gen: z.string().min(1),
  chunks: z.number().int().positive(),
  sha256: z.string().length(64),
  /** Compressed bytes of each gzip member, in order (absent: one member, as saved before members). */
  members: z.array(z.number().int().positive()).optional(),
});
const ChunkSchema = z.object({ d: z.string() });

const chunkPrefix = (gen: string): string => `CKPT#${gen}#`;

/** Characters of text per gzip member: a load inflates one member at a time, never the whole text. */
export const MEMBER_CHARS = 1 << 20;

export interface CompressedCheckpoint {
  /** Gzip members in order (back to back they are one valid gzip stream); never copied into one buffer. */
  members: Buffer[];
  bytes: number;
}

/** Bytes `from`..`to` of buffers read back to back, copied into one buffer of that size. */
const sliceOf = (buffers: readonly Buffer[], from: number, to: number): Buffer => {
  const out = Buffer.allocUnsafe(to - from);
  let at = 0;
  for (const b of buffers) {
    if (from < at + b.length && to > at)
      b.copy(out, Math.max(0, at - from), Math.max(0, from - at), Math.min(b.length, to - at));
    at += b.length;
    if (at >= to) break;
  }
  return out;
};

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * The pieces, a long one cut into slices of at most {@link MEMBER_CHARS} characters (never between
 * the halves of a surrogate pair), so no member holds much more than twice that: a 15 MB text given
 * whole was one 15 MB member, larger than one part of an upload may be.
 */
function* slices(pieces: Iterable<string>): Generator<string> {
  for (const piece of pieces) {
    let at = 0;
    while (piece.length - at > MEMBER_CHARS) {
      let end = at + MEMBER_CHARS;
      if (isHighSurrogate(piece.charCodeAt(end - 1))) end--;
      yield piece.slice(at, end);
      at = end;
    }
    yield at === 0 ? piece : piece.slice(at);
  }
}

/**
 * Gzips the checkpoint's text piece by piece into members of about {@link MEMBER_CHARS} characters,
 * each yielded as soon as it is made: a caller that sends them on holds a member, not the whole
 * checkpoint; each member inflates on its own, so a reader can take the text a member at a time.
 */
export function* gzipMembers(data: string | Iterable<string>): Generator<Buffer> {
  let group: string[] = [];
  let chars = 0;
  // The fastest level: a checkpoint lives two days at most, and compressing it was ~8% of a planner
  // run's CPU at the default level (one S3 PUT costs the same whatever its size).
  const member = (): Buffer => gzipSync(group.join(''), { level: constants.Z_BEST_SPEED });
  let made = 0;
  for (const piece of slices(typeof data === 'string' ? [data] : data)) {
    group.push(piece);
    chars += piece.length;
    // Never between the halves of a surrogate pair: each member must be whole UTF-8 on its own.
    if (chars >= MEMBER_CHARS && !isHighSurrogate(piece.charCodeAt(piece.length - 1))) {
      yield member();
      made++;
      group = [];
      chars = 0;
    }
  }
  if (chars > 0 || made === 0) yield member();
}

/** Every member of the checkpoint, held (only the compressed bytes, a fraction of the text). */
export const compressMembers = (data: string | Iterable<string>): CompressedCheckpoint => {
  const members = [...gzipMembers(data)];
  return { members, bytes: members.reduce((n, m) => n + m.length, 0) };
};

/** The checkpoint gzipped (members back to back: one gzip stream to any reader). */
export const compressCheckpoint = async (data: string | Iterable<string>): Promise<Buffer> =>
  Buffer.concat(compressMembers(data).members);

/** Base64 chunks of the bytes: each of `CHUNK_CHARS` encodes a whole number of 3-byte groups. */
const CHUNK_BYTES = (CHUNK_CHARS / 4) * 3;
/** Chunks encoded and written together (four BatchWriteItem calls' worth). */
const CHUNKS_PER_WRITE = 16;

/**
 * Writes the checkpoint's chunks under a fresh generation id, then flips the `CKPT#HEAD` pointer
 * (generation, chunk count, SHA-256) in one PutItem. A save that dies half way leaves the previous
 * head, and the chunks it points at, untouched: a reader never sees a partial newer checkpoint. The
 * replaced generation is deleted afterwards; if that fails, the 2-day TTL removes it.
 */
export const saveCheckpoint = async (
  ctx: TableContext,
  runId: string,
  data: string | Iterable<string>,
): Promise<void> => {
  const pk = keys.run(runId).pk;
  const { bytes, members } = compressMembers(data);
  const gen = randomUUID().replaceAll('-', '').slice(0, 16);
  const ttl = expiresAt(ctx, ctx.ttlDays.checkpoints);
  // The same chunks as slicing the whole base64 text, without ever holding that text: encoded and
  // written a few at a time (a million-contact plan is ~75 MB of base64).
  const hash = createHash('sha256');
  let chunks = 0;
  for (let start = 0; start < bytes; start += CHUNK_BYTES * CHUNKS_PER_WRITE) {
    const end = Math.min(bytes, start + CHUNK_BYTES * CHUNKS_PER_WRITE);
    const puts = [];
    for (let i = start; i < end; i += CHUNK_BYTES) {
      const d = sliceOf(members, i, Math.min(end, i + CHUNK_BYTES)).toString('base64');
      hash.update(d);
      const sk = `${chunkPrefix(gen)}${pad(chunks++, 4)}`;
      puts.push({ PutRequest: { Item: toItem({ pk, sk, d, expiresAt: ttl }) } });
    }
    await batchWrite(ctx, puts);
  }
  const out = await ctx.client.send(
    new PutItemCommand({
      TableName: ctx.tableName,
      Item: toItem({
        pk,
        sk: HEAD_SK,
        gen,
        chunks,
        sha256: hash.digest('hex'),
        members: members.map((m) => m.length),
        expiresAt: ttl,
      }),
      ReturnValues: 'ALL_OLD',
    }),
  );
  const previous = out.Attributes?.gen?.S;
  if (previous && previous !== gen) {
    try {
      await batchWrite(ctx, deleteRequests(await queryKeys(ctx, pk, chunkPrefix(previous))));
    } catch {
      // The new checkpoint is already in place; TTL collects what this clean-up missed.
    }
  }
};

/** The generation's chunks decoded as they arrive (no base64 text kept), and the SHA-256 of that text. */
const readGeneration = async (
  ctx: TableContext,
  pk: string,
  gen: string,
): Promise<{ parts: Buffer[]; sha256: string }> => {
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: chunkPrefix(gen) } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const d = fromItem(ChunkSchema, item).d;
      hash.update(d);
      parts.push(Buffer.from(d, 'base64'));
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { parts, sha256: hash.digest('hex') };
};

const readHead = async (ctx: TableContext, pk: string): Promise<z.output<typeof HeadSchema> | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({ TableName: ctx.tableName, Key: toItem({ pk, sk: HEAD_SK }), ConsistentRead: true }),
  );
  return out.Item && fromItem(HeadSchema, out.Item);
};

/** The text a gzip member at a time: only one member's text (and its bytes) exists at once. */
function* inflateMembers(
  parts: readonly Buffer[],
  members: readonly number[] | undefined,
): Generator<string> {
  if (members === undefined) {
    yield gunzipSync(Buffer.concat(parts)).toString('utf8');
    return;
  }
  let at = 0;
  for (const length of members) {
    yield gunzipSync(sliceOf(parts, at, at + length)).toString('utf8');
    at += length;
  }
}

/**
 * Reads the head, then its generation's chunks, and checks count and hash; the text comes back in
 * pieces, inflated as they are iterated. A mismatch while the head has moved on means a concurrent
 * save replaced the generation mid-read: read again.
 */
export const loadCheckpoint = async (
  ctx: TableContext,
  runId: string,
): Promise<Iterable<string> | undefined> => {
  const pk = keys.run(runId).pk;
  let head = await readHead(ctx, pk);
  for (let attempt = 0; head; attempt++) {
    const { parts, sha256 } = await readGeneration(ctx, pk, head.gen);
    if (parts.length === head.chunks && sha256 === head.sha256) {
      const bytes = parts.reduce((n, p) => n + p.length, 0);
      const sizes = head.members?.reduce((a, b) => a + b, 0);
      if (sizes !== undefined && sizes !== bytes) {
        throw new CorruptItemError(
          { pk, sk: HEAD_SK },
          'members',
          `add up to ${sizes} bytes, found ${bytes}`,
        );
      }
      return inflateMembers(parts, head.members);
    }
    const now = await readHead(ctx, pk);
    if (now?.gen === head.gen || attempt >= 3) {
      throw new CorruptItemError(
        { pk, sk: HEAD_SK },
        'chunks',
        `points at ${head.chunks} chunk(s) of generation ${head.gen}, found ${parts.length} not matching its hash`,
      );
    }
    head = now;
  }
  return undefined;
};

/** Deletes the head first (the checkpoint disappears at once), then every chunk of every generation. */
export const deleteCheckpoint = async (ctx: TableContext, runId: string): Promise<void> => {
  const pk = keys.run(runId).pk;
  await ctx.client.send(
    new DeleteItemCommand({ TableName: ctx.tableName, Key: toItem({ pk, sk: HEAD_SK }) }),
  );
  await batchWrite(ctx, deleteRequests(await queryKeys(ctx, pk, 'CKPT#')));
};

/** `Checkpoints` on the state table: chunked, compressed, hashed, behind a head pointer (./README.md). */
export class DynamoDbCheckpoints implements Checkpoints {
  constructor(private readonly ctx: TableContext) {}

  save(runId: string, data: string | Iterable<string>): Promise<void> {
    return saveCheckpoint(this.ctx, runId, data);
  }

  load(runId: string): Promise<Iterable<string> | undefined> {
    return loadCheckpoint(this.ctx, runId);
  }

  delete(runId: string): Promise<void> {
    return deleteCheckpoint(this.ctx, runId);
  }
}
