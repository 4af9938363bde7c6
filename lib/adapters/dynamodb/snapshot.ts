import { GetItemCommand, PutItemCommand, QueryCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type {
  BatchSettlement,
  SnapshotChange,
  StagedBatch,
  StoredSnapshotEntry,
} from '#lib/domain/snapshot.ts';
import {
  SnapshotChangedError,
  type SnapshotRecord,
  type SnapshotStats,
  type Snapshots,
} from '#lib/ports/snapshots.ts';
import { batchWrite, deleteRequests, queryKeys } from './batch-write.ts';
import { CorruptItemError, fromItem, type Item, keys, pad, type TableContext, toItem } from './records.ts';
import {
  changeLine,
  entryLine,
  linesOf,
  type Part,
  parseChange,
  parseEntry,
  parseSettlement,
  parseStaged,
  parts,
  SETTLEMENT_MARK,
  settlementLines,
  stagedLine,
} from './snapshot-codec.ts';
import { getHead, type Head, type Log, newGen, updateHead } from './snapshot-head.ts';

const PartItemSchema = z.object({ z: z.instanceof(Uint8Array) });
const ListItemSchema = z.object({ s: z.string().min(1), l: z.string().min(1) });

/** Parts per BatchWriteItem round (its limit is 25 items, 16 MB). */
const PARTS_PER_WRITE = 25;

const baseSk = (gen: string, part: number): string => `B#${gen}#${pad(part, 5)}`;
const logPrefix = (log: Pick<Log, 'seq' | 'gen'>): string => `D#${pad(log.seq, 6)}#${log.gen}#`;

/** A part's lines; a part that does not decompress is named by its key, never by its contents. */
const readableLines = (pk: string, part: { sk: string; z: Uint8Array }): string[] => {
  try {
    return linesOf(part.z);
  } catch {
    throw new CorruptItemError({ pk, sk: part.sk }, 'z', 'is not a readable snapshot part (gzip)');
  }
};

/** Every item under `prefix`, in sort-key order, one strongly consistent paged Query. */
async function* queryParts(
  ctx: TableContext,
  pk: string,
  prefix: string,
): AsyncGenerator<{ sk: string; lines: string[] }> {
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':p': { S: prefix } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const sk = item.sk?.S ?? '';
      yield { sk, lines: readableLines(pk, { sk, z: fromItem(PartItemSchema, item).z }) };
    }
    start = out.LastEvaluatedKey;
  } while (start);
}

const putParts = async (
  ctx: TableContext,
  pk: string,
  items: Array<{ sk: string; part: Part }>,
): Promise<number> => {
  const writes: WriteRequest[] = items.map(({ sk, part }) => ({
    PutRequest: { Item: toItem({ pk, sk, z: part.data, n: part.lines }) },
  }));
  await batchWrite(ctx, writes);
  return items.reduce((n, i) => n + i.part.data.length, 0);
};

/** Deletes the parts under `prefix` that `keep` does not claim (a replaced generation, orphans of a crash). */
const deleteParts = async (
  ctx: TableContext,
  pk: string,
  prefix: string,
  keep: (sk: string) => boolean,
): Promise<void> => {
  const stale = (await queryKeys(ctx, pk, prefix)).filter((k) => !keep(k.sk?.S ?? ''));
  await batchWrite(ctx, deleteRequests(stale));
};

/**
 * The snapshot's base, then its logs in order (key design in ./README.md). Parts of a generation
 * the head does not name (a crash between writing them and the head) are skipped.
 */
export async function* scanSnapshot(ctx: TableContext, exportId: string): AsyncGenerator<SnapshotRecord> {
  const pk = keys.snapshotPk(exportId);
  const head = await getHead(ctx, exportId);
  if (head === undefined) return;
  if (head.base !== undefined) {
    for await (const item of queryParts(ctx, pk, `B#${head.base.gen}#`)) {
      for (const line of item.lines) yield { kind: 'entry', entry: parseEntry(line) };
    }
  }
  const bySeq = new Map(head.logs.map((l) => [l.seq, l]));
  let frozen: { seq: number; settlements: Map<number, BatchSettlement> } | undefined;
  let next = 0; // index into head.logs of the first log not yet yielded
  const upTo = function* (seq: number): Generator<SnapshotRecord> {
    // Logs without parts (dropped segments) come out in their place among the others.
    while (next < head.logs.length && (head.logs[next]?.seq ?? 0) < seq) {
      const log = head.logs[next++];
      if (log?.kind === 'drop') yield { kind: 'drop', segmentId: log.segmentId ?? '' };
    }
  };
  for await (const item of queryParts(ctx, pk, 'D#')) {
    const [, seqText, gen] = item.sk.split('#');
    const log = bySeq.get(Number(seqText));
    if (log === undefined || log.gen !== gen) continue;
    yield* upTo(log.seq);
    const { lines } = item;
    if (log.kind === 'changes') {
      yield { kind: 'changes', changes: lines.map(parseChange) };
    } else if (item.sk.slice(logPrefix(log).length).startsWith(SETTLEMENT_MARK)) {
      // A settled log's settlement parts sort before its batches.
      if (frozen?.seq !== log.seq) frozen = { seq: log.seq, settlements: new Map() };
      for (const line of lines) {
        const [batchNo, settlement] = parseSettlement(line);
        frozen.settlements.set(batchNo, settlement);
      }
    } else {
      const settlements = log.kind === 'settled' && frozen?.seq === log.seq ? frozen.settlements : undefined;
      yield {
        kind: 'staged',
        runId: log.runId ?? '',
        batches: lines.map(parseStaged),
        // A settled log whose settlement parts are all absent recorded nothing: an empty map.
        ...(log.kind === 'settled' ? { settlements: settlements ?? new Map() } : {}),
      };
    }
  }
  yield* upTo(Number.POSITIVE_INFINITY);
}

const statsOf = (head: Head | undefined): SnapshotStats => ({
  version: head?.ver ?? 0,
  baseEntries: head?.base?.entries ?? 0,
  baseBytes: head?.base?.bytes ?? 0,
  logBytes: (head?.logs ?? []).reduce((n, l) => n + l.bytes, 0),
  largestLogBytes: Math.max(0, ...(head?.logs ?? []).map((l) => l.bytes)),
  logs: head?.logs.length ?? 0,
  stagedRuns: (head?.logs ?? []).flatMap((l) => (l.kind === 'staged' && l.runId ? [l.runId] : [])),
});

/** Appends a log of accepted changes: parts first, then the head, so a crash leaves only unseen parts. */
const applyChanges = async (
  ctx: TableContext,
  exportId: string,
  changes: readonly SnapshotChange[],
): Promise<void> => {
  if (changes.length === 0) return;
  const pk = keys.snapshotPk(exportId);
  const gen = newGen();
  const seq = (await getHead(ctx, exportId))?.seq ?? 0;
  const written = await putParts(
    ctx,
    pk,
    [...parts(changes.map(changeLine))].map((part, i) => ({
      sk: `${logPrefix({ seq, gen })}${pad(i, 8)}`,
      part,
    })),
  );
  await updateHead(ctx, exportId, (head) => {
    // Another writer took this sequence number meanwhile: the parts are orphans; write again.
    if (head.seq !== seq) throw new SnapshotChangedError(`Snapshot of ${exportId} changed while applying`);
    return { ...head, seq: seq + 1, logs: [...head.logs, { seq, kind: 'changes', gen, bytes: written }] };
  });
};

/** Adds staged batches to the run's log (created on the run's first call), parts keyed by batch number. */
const stageBatches = async (
  ctx: TableContext,
  exportId: string,
  runId: string,
  batches: readonly StagedBatch[],
): Promise<void> => {
  if (batches.length === 0) return;
  const pk = keys.snapshotPk(exportId);
  const head = await getHead(ctx, exportId);
  const existing = head?.logs.find((l) => l.kind === 'staged' && l.runId === runId);
  const log = existing ?? { seq: head?.seq ?? 0, kind: 'staged' as const, gen: newGen(), runId, bytes: 0 };
  const items: Array<{ sk: string; part: Part }> = [];
  let at = 0;
  for (const part of parts(batches.map(stagedLine))) {
    items.push({ sk: `${logPrefix(log)}${pad(batches[at]?.batchNo ?? 0, 8)}`, part });
    at += part.lines;
  }
  const written = await putParts(ctx, pk, items);
  await updateHead(ctx, exportId, (h) => {
    const found = h.logs.find((l) => l.kind === 'staged' && l.runId === runId);
    if (found === undefined) {
      if (h.seq !== log.seq) throw new SnapshotChangedError(`Snapshot of ${exportId} changed while staging`);
      return { ...h, seq: log.seq + 1, logs: [...h.logs, { ...log, bytes: written }] };
    }
    if (found.gen !== log.gen)
      throw new SnapshotChangedError(`Staged plan of ${runId} was replaced meanwhile`);
    return { ...h, logs: h.logs.map((l) => (l === found ? { ...l, bytes: l.bytes + written } : l)) };
  });
};

/** Writes the run's frozen settlements beside its staged parts (sorted first), then marks the log settled. */
const settleStaged = async (
  ctx: TableContext,
  exportId: string,
  runId: string,
  settlements: ReadonlyMap<number, BatchSettlement>,
): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  const log = (await getHead(ctx, exportId))?.logs.find((l) => l.kind === 'staged' && l.runId === runId);
  if (log === undefined) return;
  const items = [...parts(settlementLines(settlements))].map((part, i) => ({
    sk: `${logPrefix(log)}${SETTLEMENT_MARK}${pad(i, 4)}`,
    part,
  }));
  const written = await putParts(ctx, pk, items);
  await updateHead(ctx, exportId, (h) => ({
    ...h,
    logs: h.logs.map((l) =>
      l.seq === log.seq && l.gen === log.gen
        ? { ...l, kind: 'settled' as const, bytes: l.bytes + written }
        : l,
    ),
  }));
};

const rebaseSnapshot = async (
  ctx: TableContext,
  exportId: string,
  version: number,
  entries: Iterable<StoredSnapshotEntry>,
): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  const gen = newGen();
  let count = 0;
  const lines = function* (): Generator<string> {
    for (const e of entries) {
      count++;
      yield entryLine(e);
    }
  };
  let pending: Array<{ sk: string; part: Part }> = [];
  let written = 0;
  let bytes = 0;
  // Parts are written as they fill, so the base's text is never all in memory at once.
  for (const part of parts(lines())) {
    pending.push({ sk: baseSk(gen, written++), part });
    if (pending.length === PARTS_PER_WRITE) {
      bytes += await putParts(ctx, pk, pending);
      pending = [];
    }
  }
  bytes += await putParts(ctx, pk, pending);
  await updateHead(ctx, exportId, (h) => {
    if (h.ver !== version)
      throw new SnapshotChangedError(`Snapshot of ${exportId} changed since it was read`);
    return { ...h, base: { gen, parts: written, entries: count, bytes }, logs: [] };
  });
  await deleteParts(ctx, pk, 'B#', (sk) => sk.startsWith(`B#${gen}#`));
  await deleteParts(ctx, pk, 'D#', () => false);
};

/** Deletes every snapshot item of an export (head, base, logs, list pointers). */
const deleteSnapshot = async (ctx: TableContext, exportId: string): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  await batchWrite(ctx, deleteRequests(await queryKeys(ctx, pk, '')));
};

/** The `L#<segmentId>` items: which destination list each segment's memberships refer to. */
const snapshotLists = async (ctx: TableContext, exportId: string): Promise<Record<string, string>> => {
  const lists: Record<string, string> = {};
  let start: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)',
        ExpressionAttributeValues: { ':pk': { S: keys.snapshotPk(exportId) }, ':l': { S: 'L#' } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const { s, l } = fromItem(ListItemSchema, item);
      lists[s] = l;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return lists;
};

/**
 * Points a segment at a list; a different list than before drops the segment's memberships first
 * (a `drop` log: nobody is on a new list yet), then records the new list.
 */
const setSnapshotList = async (
  ctx: TableContext,
  exportId: string,
  segmentId: string,
  listId: string,
): Promise<void> => {
  const pk = keys.snapshotPk(exportId);
  const current = await ctx.client.send(
    new GetItemCommand({
      TableName: ctx.tableName,
      Key: toItem({ pk, sk: keys.snapshotListSk(segmentId) }),
      ConsistentRead: true,
    }),
  );
  const previous = current.Item ? fromItem(ListItemSchema, current.Item).l : undefined;
  if (previous === listId) return;
  if (previous !== undefined) {
    await updateHead(ctx, exportId, (h) => ({
      ...h,
      seq: h.seq + 1,
      logs: [...h.logs, { seq: h.seq, kind: 'drop', gen: '-', segmentId, bytes: 0 }],
    }));
  }
  await ctx.client.send(
    new PutItemCommand({
      TableName: ctx.tableName,
      Item: toItem({ pk, sk: keys.snapshotListSk(segmentId), s: segmentId, l: listId }),
    }),
  );
};

/** `Snapshots` on the state table: one `SNAP#<exportId>` partition per export (key design in ./README.md). */
export class DynamoDbSnapshots implements Snapshots {
  constructor(private readonly ctx: TableContext) {}

  scan(exportId: string): AsyncIterable<SnapshotRecord> {
    return scanSnapshot(this.ctx, exportId);
  }

  async stats(exportId: string): Promise<SnapshotStats> {
    return statsOf(await getHead(this.ctx, exportId));
  }

  apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    return applyChanges(this.ctx, exportId, changes);
  }

  stage(exportId: string, runId: string, batches: readonly StagedBatch[]): Promise<void> {
    return stageBatches(this.ctx, exportId, runId, batches);
  }

  settle(exportId: string, runId: string, settlements: ReadonlyMap<number, BatchSettlement>): Promise<void> {
    return settleStaged(this.ctx, exportId, runId, settlements);
  }

  rebase(exportId: string, version: number, entries: Iterable<StoredSnapshotEntry>): Promise<void> {
    return rebaseSnapshot(this.ctx, exportId, version, entries);
  }

  delete(exportId: string): Promise<void> {
    return deleteSnapshot(this.ctx, exportId);
  }

  lists(exportId: string): Promise<Record<string, string>> {
    return snapshotLists(this.ctx, exportId);
  }

  setList(exportId: string, segmentId: string, listId: string): Promise<void> {
    return setSnapshotList(this.ctx, exportId, segmentId, listId);
  }
}
