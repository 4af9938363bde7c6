import { randomBytes } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { SnapshotChangedError } from '#lib/ports/snapshots.ts';
import { fromItem, isConditionFailed, keys, type TableContext, toItem } from './records.ts';

const LogSchema = z.object({
  seq: z.number().int().min(0),
  /** staged: a run's plan, read with its live ledger; settled: with the ledger's answers frozen beside it. */
  kind: z.enum(['staged', 'settled', 'changes', 'drop']),
  gen: z.string().min(1),
  runId: z.string().optional(),
  segmentId: z.string().optional(),
  bytes: z.number().int().min(0),
});
export type Log = z.infer<typeof LogSchema>;

const HeadSchema = z.object({
  v: z.literal(2),
  ver: z.number().int().min(0),
  /** The sequence number the next log takes. */
  seq: z.number().int().min(0),
  base: z
    .object({
      gen: z.string().min(1),
      parts: z.number().int(),
      entries: z.number().int(),
      bytes: z.number().int(),
    })
    .optional(),
  logs: z.array(LogSchema),
});
export type Head = z.infer<typeof HeadSchema>;

const HEAD_SK = 'HEAD';
const ATTEMPTS = 5;

/** A generation id: parts are written under a fresh one, so the head can switch to them atomically. */
export const newGen = (): string => randomBytes(6).toString('base64url');

export const getHead = async (ctx: TableContext, exportId: string): Promise<Head | undefined> => {
  const out = await ctx.client.send(
    new GetItemCommand({
      TableName: ctx.tableName,
      Key: toItem({ pk: keys.snapshotPk(exportId), sk: HEAD_SK }),
      ConsistentRead: true,
    }),
  );
  return out.Item === undefined ? undefined : fromItem(HeadSchema, out.Item);
};

/**
 * Read, change, write back on the condition that nobody wrote in between (`ver`); a lost race reads
 * again and re-applies `change`, which may refuse by throwing.
 */
export const updateHead = async (
  ctx: TableContext,
  exportId: string,
  change: (head: Head) => Head,
): Promise<void> => {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const head = await getHead(ctx, exportId);
    const current: Head = head ?? { v: 2, ver: 0, seq: 0, logs: [] };
    const next = { ...change(current), v: 2 as const, ver: current.ver + 1 };
    try {
      await ctx.client.send(
        new PutItemCommand({
          TableName: ctx.tableName,
          Item: toItem({ pk: keys.snapshotPk(exportId), sk: HEAD_SK, ...next }),
          ...(head === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#ver = :ver',
                ExpressionAttributeNames: { '#ver': 'ver' },
                ExpressionAttributeValues: toItem({ ':ver': head.ver }),
              }),
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
  throw new SnapshotChangedError(`Snapshot of ${exportId} kept changing under ${ATTEMPTS} writes`);
};
