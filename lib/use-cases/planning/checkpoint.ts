import * as z from 'zod';
import {
  type CollectedContact,
  type CollectorState,
  type ContactRecord,
  ContactStore,
  type TextStash,
} from '#lib/domain/collector.ts';
import { jsonCodec } from '#lib/domain/contact-codec.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { type Drift, DriftSchema } from '#lib/domain/run-record.ts';
import { SnapshotMap } from '#lib/domain/snapshot-map.ts';
import { linePieces, linesOf } from './checkpoint-lines.ts';

/**
 * Where a run's reading of its lists (tags, in tag mode) stands: a repair run's, or a tag-mode run's
 * whose counts disagreed. `drift.tags` holds the counts, taken once: a resumed run reads on and never
 * counts again, and reads only the tags marked `readBack`.
 */
export interface ReconcileState {
  /** Index into the run's lists (`PlannerCheckpoint.listIds`) of the one being read. */
  list: number;
  /** Where the next page of the list being read starts. */
  bookmark?: string;
  /** Keys of the list being read that the snapshot now counts as members (a member read twice counts once). */
  seen: string[];
  drift: Drift;
  /** Every list was read and the drift recorded on the run. */
  done?: boolean;
}

/**
 * What the planner saves when it runs short of time, so the next invocation continues where it
 * stopped. The snapshot is frozen at the start of planning: batches already sent by this run update
 * the live snapshot, and re-reading it would change the plan under our feet.
 *
 * In phase `emit` the checkpoint *is* the decided plan: collector, frozen snapshot, lists and the
 * bulk-membership capability together rebuild exactly the same numbered batches, so a planner that
 * resumes (or a plan message delivered again) queues the same batches, never a new plan.
 */
export interface PlannerCheckpoint {
  v: 2;
  phase: 'collect' | 'emit';
  segmentIndex: number;
  cursor?: string;
  collector: CollectorState;
  /** The codec (`ContactCodec.id`) the collector's data texts were written with. */
  codec?: string;
  snapshot: Iterable<[key: string, entry: SnapshotEntry]>;
  /** Batches already queued (emit phase). */
  emitted: number;
  /** List mode: the resolved list ids; tag mode: the segment tags. In segment order. */
  listIds?: string[];
  /** The bulk-membership capability the plan was priced and sized with (phase `emit`). */
  capability?: BulkMembership;
  /** Requests made while planning so far (list lookups), by kind. */
  requests: Record<string, number>;
  /** A repair run's (or a tag-mode run's counting and) reading of its lists so far (see reconcile.ts). */
  reconcile?: ReconcileState;
}

const ReconcileSchema = z.object({
  list: z.number().int().min(0),
  bookmark: z.string().optional(),
  seen: z.array(z.string()),
  drift: DriftSchema,
  done: z.boolean().optional(),
});

const EnvelopeFields = {
  phase: z.enum(['collect', 'emit']),
  segmentIndex: z.number().int().min(0),
  cursor: z.string().optional(),
  emitted: z.number().int().min(0),
  listIds: z.array(z.string()).optional(),
  capability: z.enum(['supported', 'unsupported', 'unknown']).optional(),
  requests: z.record(z.string(), z.number()),
  reconcile: ReconcileSchema.optional(),
};

// The collector state is produced by our own code; validate the envelope, trust the bulk.
const HeadSchema = z.object({
  v: z.literal(2),
  ...EnvelopeFields,
  codec: z.string().optional(),
  collector: z.object({ counts: z.any(), heldBack: z.array(z.string()) }).loose(),
  /** Lines that follow: first this many contacts, then this many snapshot entries. */
  contacts: z.number().int().min(0),
  snapshot: z.number().int().min(0),
});

/** The single-JSON layout saved before checkpoints went line by line; still read while one may exist. */
const V1Schema = z.object({
  v: z.literal(1),
  ...EnvelopeFields,
  collector: z.object({ contacts: z.array(z.tuple([z.string(), z.any()])), counts: z.any() }).loose(),
  snapshot: z.array(z.tuple([z.string(), z.object({ hash: z.string(), segments: z.number() }).loose()])),
});

type SnapshotLine = [key: string, hash: string, segments: number, maybe?: number, email?: string];

const snapshotLine = (key: string, e: SnapshotEntry): SnapshotLine =>
  e.email !== undefined
    ? [key, e.hash, e.segments, e.maybe ?? 0, e.email]
    : e.maybe
      ? [key, e.hash, e.segments, e.maybe]
      : [key, e.hash, e.segments];

const sizeOf = (items: Iterable<unknown>): number => {
  if (items instanceof Map || items instanceof Set || items instanceof ContactStore) return items.size;
  if (Array.isArray(items)) return items.length;
  let n = 0;
  for (const _ of items) n++;
  return n;
};

/**
 * The checkpoint as text in pieces: a head line (everything but the contacts and the snapshot, with
 * their counts), then one line per contact, then one per snapshot entry. Each contact's data stays
 * the collector's compact text: a million-contact plan is saved, and read back, a line at a time,
 * never as one string nor one parse.
 */
export function* checkpointPieces(checkpoint: PlannerCheckpoint): Generator<string> {
  const { collector, snapshot, ...envelope } = checkpoint;
  const { contacts, ...collectorRest } = collector;
  const records: Iterable<ContactRecord> = contacts instanceof ContactStore ? contacts.records() : contacts;
  const head = {
    ...envelope,
    v: 2,
    collector: collectorRest,
    contacts: sizeOf(contacts),
    snapshot: sizeOf(snapshot),
  };
  yield `${JSON.stringify(head)}\n`;
  yield* linePieces(records, (r) => r);
  yield* linePieces(snapshot, ([key, entry]) => snapshotLine(key, entry));
}

const truncated = (what: string, expected: number, found: number): Error =>
  new Error(`Planner checkpoint is truncated: ${expected} ${what} announced, ${found} found`);

/**
 * Reads a checkpoint from its text (or the pieces `Checkpoints.load` gave), a line at a time: the
 * contacts go straight into a `ContactStore` (their data texts into `texts`, a spill file in the
 * planner), the snapshot into its map.
 */
export const parseCheckpoint = (text: string | Iterable<string>, texts?: TextStash): PlannerCheckpoint => {
  const lines = linesOf(typeof text === 'string' ? [text] : text);
  const first = lines.next();
  if (first.done) throw new Error('Planner checkpoint is empty');
  const raw: unknown = JSON.parse(first.value);
  if ((raw as { v?: unknown } | null)?.v === 1) return fromV1(V1Schema.parse(raw), texts);
  const { contacts: contactCount, snapshot: snapshotCount, ...head } = HeadSchema.parse(raw);
  const store = new ContactStore(jsonCodec, texts);
  for (let i = 0; i < contactCount; i++) {
    const line = lines.next();
    if (line.done) throw truncated('contacts', contactCount, i);
    store.restore(JSON.parse(line.value) as ContactRecord);
  }
  const snapshot = new SnapshotMap(snapshotCount);
  for (let i = 0; i < snapshotCount; i++) {
    const line = lines.next();
    if (line.done) throw truncated('snapshot entries', snapshotCount, i);
    const [key, hash, segments, maybe, email] = JSON.parse(line.value) as SnapshotLine;
    snapshot.set(key, { hash, segments, ...(maybe ? { maybe } : {}), ...(email ? { email } : {}) });
  }
  // Closes the source: an adapter's generator holds the whole stored body (~120 MB of gzip at a
  // million contacts) until it finishes, and the last line read leaves it suspended.
  lines.return(undefined);
  const collector = head.collector as unknown as Omit<CollectorState, 'contacts'>;
  return { ...head, collector: { ...collector, contacts: store }, snapshot } as PlannerCheckpoint;
};

const fromV1 = (v1: z.output<typeof V1Schema>, texts: TextStash | undefined): PlannerCheckpoint => {
  const { v: _v, collector, snapshot, ...rest } = v1;
  const store = new ContactStore(jsonCodec, texts);
  for (const [key, c] of collector.contacts as Array<[string, CollectedContact]>) {
    store.restore([
      key,
      c.profileId,
      c.updatedAt ?? null,
      c.segments,
      jsonCodec.encode(c.data, key),
      c.mergedIds ?? [],
    ]);
  }
  const state = { ...(collector as unknown as CollectorState), contacts: store };
  const frozen = new SnapshotMap(snapshot.length);
  for (const [key, entry] of snapshot as Array<[string, SnapshotEntry]>) frozen.set(key, entry);
  return {
    ...rest,
    v: 2,
    codec: jsonCodec.id,
    collector: state,
    snapshot: frozen,
  };
};
