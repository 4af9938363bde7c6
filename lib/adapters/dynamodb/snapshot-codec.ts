import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod';
import type {
  BatchSettlement,
  SnapshotChange,
  StagedBatch,
  StoredSnapshotEntry,
} from '#lib/domain/snapshot.ts';

/**
 * How snapshot parts are stored: gzip of JSON lines, one tuple per entry, change or staged batch.
 * Positional tuples rather than objects, because the names would be most of the bytes; gzip then
 * folds the repeated segment ids and domains away. A part stays well under DynamoDB's 400 KB item.
 */
export const MAX_PART_BYTES = 350 * 1024;
/** Raw text gathered before compressing a part (JSON of emails and hashes compresses ~2–3×). */
const RAW_PART_BYTES = 600 * 1024;

type EntryTuple = [key: string, hash: string, email: string | 0, segments: string[], maybe?: string[]];
type ChangeTuple = [
  key: string,
  hash: string | null,
  email: string | 0,
  join: string[],
  leave: string[],
  forget: 0 | 1,
  maybe?: string[],
];

const ids = z.array(z.string());
const EntryTupleSchema = z.tuple([z.string(), z.string(), z.union([z.string(), z.literal(0)]), ids], ids);
const ChangeTupleSchema = z.tuple(
  [
    z.string(),
    z.string().nullable(),
    z.union([z.string(), z.literal(0)]),
    ids,
    ids,
    z.union([z.literal(0), z.literal(1)]),
  ],
  ids,
);
const StagedLineSchema = z.tuple([z.number().int().min(0), z.array(z.unknown())]);

export const entryLine = (e: StoredSnapshotEntry): string => {
  const t: EntryTuple = [e.key, e.hash, e.email ?? 0, e.segmentIds];
  if (e.maybeSegmentIds?.length) t.push(e.maybeSegmentIds);
  return JSON.stringify(t);
};

const changeTuple = (c: SnapshotChange): ChangeTuple => {
  const t: ChangeTuple = [c.key, c.hash, c.email ?? 0, c.join, c.leave, c.forget ? 1 : 0];
  if (c.maybe?.length) t.push(c.maybe);
  return t;
};

export const changeLine = (c: SnapshotChange): string => JSON.stringify(changeTuple(c));

export const stagedLine = (b: StagedBatch): string => JSON.stringify([b.batchNo, b.changes.map(changeTuple)]);

export const parseEntry = (line: string): StoredSnapshotEntry => {
  const [key, hash, email, segmentIds, maybe] = EntryTupleSchema.parse(JSON.parse(line));
  const entry: StoredSnapshotEntry = { key, hash, segmentIds };
  if (email !== 0) entry.email = email;
  if (maybe?.length) entry.maybeSegmentIds = maybe;
  return entry;
};

const fromTuple = (raw: unknown): SnapshotChange => {
  const [key, hash, email, join, leave, forget, maybe] = ChangeTupleSchema.parse(raw);
  const change: SnapshotChange = { key, hash, join, leave, forget: forget === 1 };
  if (email !== 0) change.email = email;
  if (maybe?.length) change.maybe = maybe;
  return change;
};

export const parseChange = (line: string): SnapshotChange => fromTuple(JSON.parse(line));

export const parseStaged = (line: string): StagedBatch => {
  const [batchNo, changes] = StagedLineSchema.parse(JSON.parse(line));
  return { batchNo, changes: changes.map(fromTuple) };
};

/** A compressed part and how many lines it holds. */
export interface Part {
  data: Uint8Array;
  lines: number;
}

const compress = (lines: readonly string[]): Part[] => {
  const data = gzipSync(lines.join('\n'));
  if (data.length <= MAX_PART_BYTES || lines.length === 1) {
    if (data.length > MAX_PART_BYTES) throw new Error(`One snapshot line compresses to ${data.length} bytes`);
    return [{ data, lines: lines.length }];
  }
  const mid = Math.ceil(lines.length / 2);
  return [...compress(lines.slice(0, mid)), ...compress(lines.slice(mid))];
};

/** Lines into compressed parts of at most MAX_PART_BYTES, in order, never holding more than a part's text. */
export function* parts(lines: Iterable<string>): Generator<Part> {
  let pending: string[] = [];
  let size = 0;
  for (const line of lines) {
    pending.push(line);
    size += line.length + 1;
    if (size >= RAW_PART_BYTES) {
      yield* compress(pending);
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield* compress(pending);
}

export const linesOf = (data: Uint8Array): string[] => {
  const text = gunzipSync(data).toString('utf8');
  return text === '' ? [] : text.split('\n');
};

/** Sorts before a log's batch parts (keyed by zero-padded batch numbers): '!' < '0'. */
export const SETTLEMENT_MARK = '!s';

const SettlementLineSchema = z.tuple([
  z.number().int().min(0),
  z.number().int().min(0),
  z.union([z.literal(0), z.literal(1)]),
  z.number().int().min(-1),
  z.union([z.literal(0), z.literal(1)]),
  z.array(z.number().int().min(0)),
]);

export function* settlementLines(settlements: ReadonlyMap<number, BatchSettlement>): Generator<string> {
  for (const [batchNo, s] of settlements) {
    yield JSON.stringify([
      batchNo,
      s.next,
      s.done ? 1 : 0,
      s.resultsTo ?? -1,
      s.tried ? 1 : 0,
      [...s.failed],
    ]);
  }
}

export const parseSettlement = (line: string): [number, BatchSettlement] => {
  const [batchNo, next, done, resultsTo, tried, failed] = SettlementLineSchema.parse(JSON.parse(line));
  return [
    batchNo,
    {
      next,
      done: done === 1,
      ...(resultsTo === -1 ? {} : { resultsTo }),
      failed: new Set(failed),
      tried: tried === 1,
    },
  ];
};
