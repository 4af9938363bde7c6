import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
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
});
const ChunkSchema = z.object({ d: z.string() });

const chunkPrefix = (gen: string): string => `CKPT#${gen}#`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Gzips the checkpoint's text piece by piece: only the compressed bytes (a fraction of the text) are
 * ever held whole, never the text of a 100,000-contact plan as one string.
 */
export const compressCheckpoint = async (data: string | Iterable<string>): Promise<Buffer> => {
  const gzip = createGzip();
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = once(gzip, 'end');
  for (const piece of typeof data === 'string' ? [data] : data) {
    if (!gzip.write(piece, 'utf8')) await once(gzip, 'drain');
  }
  gzip.end();
  await ended;
  return Buffer.concat(out);
};

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
  const encoded = (await compressCheckpoint(data)).toString('base64');
  const gen = randomUUID().replaceAll('-', '').slice(0, 16);
  const ttl = expiresAt(ctx, ctx.ttlDays.checkpoints);
  const chunks: string[] = [];
  for (let i = 0; i < encoded.length; i += CHUNK_CHARS) chunks.push(encoded.slice(i, i + CHUNK_CHARS));
  await batchWrite(
    ctx,
    chunks.map((d, n) => ({
      PutRequest: { Item: toItem({ pk, sk: `${chunkPrefix(gen)}${pad(n, 4)}`, d, expiresAt: ttl }) },
    })),
  );
  const out = await ctx.client.send(
    new PutItemCommand({
      TableName: ctx.tableName,
      Item: toItem({ pk, sk: HEAD_SK, gen, chunks: chunks.length, sha256: sha256(encoded), expiresAt: ttl }),
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

const readGeneration = async (ctx: TableContext, pk: string, gen: string): Promise<string[]> => {
  const parts: string[] = [];
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
    for (const item of out.Items ?? []) parts.push(fromItem(ChunkSchema, item).d);
    start = out.LastEvaluatedKey;
  } while (start);
  return parts;
};

const readHead = async (ctx: TableContext, pk: string): Promise<z.output<typeof HeadSchema> | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({ TableName: ctx.tableName, Key: toItem({ pk, sk: HEAD_SK }), ConsistentRead: true }),
  );
  return out.Item && fromItem(HeadSchema, out.Item);
};

/**
 * Reads the head, then its generation's chunks, and checks count and hash. A mismatch while the
 * head has moved on means a concurrent save replaced the generation mid-read: read again.
 */
export const loadCheckpoint = async (ctx: TableContext, runId: string): Promise<string | undefined> => {
  const pk = keys.run(runId).pk;
  let head = await readHead(ctx, pk);
  for (let attempt = 0; head; attempt++) {
    const parts = await readGeneration(ctx, pk, head.gen);
    const encoded = parts.join('');
    if (parts.length === head.chunks && sha256(encoded) === head.sha256) {
      return gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8');
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

  load(runId: string): Promise<string | undefined> {
    return loadCheckpoint(this.ctx, runId);
  }

  delete(runId: string): Promise<void> {
    return deleteCheckpoint(this.ctx, runId);
  }
}
