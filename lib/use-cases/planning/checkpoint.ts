import * as z from 'zod';
import type { CollectorState } from '#lib/domain/collector.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { type Drift, DriftSchema } from '#lib/domain/run-record.ts';

/** Where a repair run's reading of its lists stands (list index into the run's lists). */
export interface ReconcileState {
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
  v: 1;
  phase: 'collect' | 'emit';
  segmentIndex: number;
  cursor?: string;
  collector: CollectorState;
  snapshot: Array<[key: string, entry: SnapshotEntry]>;
  /** Batches already queued (emit phase). */
  emitted: number;
  listIds?: string[];
  /** The bulk-membership capability the plan was priced and sized with (phase `emit`). */
  capability?: BulkMembership;
  /** Requests made while planning so far (list lookups), by kind. */
  requests: Record<string, number>;
  /** A repair run's reading of its lists so far (see reconcile.ts). */
  reconcile?: ReconcileState;
}

// The collector state is produced by our own code; validate the envelope, trust the bulk.
const CheckpointEnvelopeSchema = z.object({
  v: z.literal(1),
  phase: z.enum(['collect', 'emit']),
  segmentIndex: z.number().int().min(0),
  cursor: z.string().optional(),
  collector: z.object({ contacts: z.array(z.tuple([z.string(), z.any()])), counts: z.any() }).loose(),
  snapshot: z.array(z.tuple([z.string(), z.object({ hash: z.string(), segments: z.number() }).loose()])),
  emitted: z.number().int().min(0),
  listIds: z.array(z.string()).optional(),
  capability: z.enum(['supported', 'unsupported', 'unknown']).optional(),
  requests: z.record(z.string(), z.number()),
  reconcile: z
    .object({
      list: z.number().int().min(0),
      bookmark: z.string().optional(),
      seen: z.array(z.string()),
      drift: DriftSchema,
      done: z.boolean().optional(),
    })
    .optional(),
});

/** Array elements per piece: a few hundred kilobytes of JSON. */
const ELEMENTS_PER_PIECE = 500;

function* arrayPieces(items: readonly unknown[]): Generator<string> {
  yield '[';
  for (let i = 0; i < items.length; i += ELEMENTS_PER_PIECE) {
    const part = JSON.stringify(items.slice(i, i + ELEMENTS_PER_PIECE));
    yield `${i === 0 ? '' : ','}${part.slice(1, -1)}`;
  }
  yield ']';
}

/**
 * The checkpoint's JSON text in pieces (their concatenation parses to the same value as
 * `JSON.stringify(checkpoint)`). At the emit phase the checkpoint holds every contact of the plan:
 * as one string it would be tens of megabytes on top of the plan itself.
 */
export function* checkpointPieces(checkpoint: PlannerCheckpoint): Generator<string> {
  const { collector, snapshot, ...envelope } = checkpoint;
  const { contacts, ...collectorRest } = collector;
  // Both objects always have fields (`v`; `counts`), so dropping their closing brace leaves valid JSON.
  yield `${JSON.stringify(envelope).slice(0, -1)},"collector":${JSON.stringify(collectorRest).slice(0, -1)},"contacts":`;
  yield* arrayPieces(contacts);
  yield '},"snapshot":';
  yield* arrayPieces(snapshot);
  yield '}';
}

export const parseCheckpoint = (text: string): PlannerCheckpoint => {
  const parsed = CheckpointEnvelopeSchema.parse(JSON.parse(text));
  return parsed as unknown as PlannerCheckpoint;
};
