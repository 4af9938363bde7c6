import * as z from 'zod';
import { ExportConfigSchema } from './export-config.ts';
import { RunHoldSchema } from './removal-guardrail.ts';
import { ContactFilterSchema, RunStatusSchema, RunTriggerSchema } from './run.ts';

const iso = z.string().min(1);
const counts = z.record(z.string(), z.number());

export const RequestEstimateSchema = z.object({
  /** Requests by kind (bulkUpsert, upsertWithList, listRemove, ...). */
  requests: counts,
  totalRequests: z.number(),
  /** The price of the same changes (docs/architecture.md#cost-model): what no batching could beat. */
  floorRequests: z.number(),
  ratePerSecond: z.number(),
  seconds: z.number(),
  /** The same requests at Autopilot's documented 5 requests/s. */
  secondsAtDocumentedRate: z.number(),
  /** True while it is an upper bound from segment sizes, before planning has diffed anything. */
  upperBound: z.boolean(),
});
export type RequestEstimate = z.infer<typeof RequestEstimateSchema>;

export const PlanningStatsSchema = z.object({
  segments: z.array(
    z.object({ id: z.string(), name: z.string(), profiles: z.number(), listId: z.string().optional() }),
  ),
  profilesRead: z.number(),
  distinct: z.number(),
  invalid: counts,
  fieldIssues: counts,
  merged: z.number(),
  overCapProfiles: z.number(),
  heldBack: z.number(),
  added: z.number(),
  changed: z.number(),
  unchanged: z.number(),
  left: z.number(),
  joins: z.array(z.number()),
  leaves: z.array(z.number()),
});
export type PlanningStats = z.infer<typeof PlanningStatsSchema>;

/**
 * Tag mode: one segment tag as a run checked it before planning (docs/ortto.md#verification). The
 * count agrees when it lies between `expected + foreign` and `expected + uncertain + foreign`.
 */
export const TagCheckSchema = z.object({
  segmentId: z.string(),
  tag: z.string(),
  /** People the destination counts with the tag (Ortto `tags/get`); null when not counted (a repair run). */
  counted: z.number().nullable(),
  /** Members the snapshot is sure the previous runs left with the tag. */
  expected: z.number(),
  /** Memberships whose outcome the snapshot does not know (a lost answer): either way agrees. */
  uncertain: z.number(),
  /** People carrying the tag whom this product never tagged, left alone, as last read back. */
  foreign: z.number(),
  /** Whether this run read the tag's members back (a disagreeing count, or a repair run). */
  readBack: z.boolean(),
});
export type TagCheck = z.infer<typeof TagCheckSchema>;

/**
 * What a run found when it read its lists or tags back (docs/architecture.md#drift-repair), and in
 * tag mode what it counted first.
 */
export const DriftSchema = z.object({
  /** Lists (or tags) read back. */
  lists: z.number(),
  /** Members read (each counted once per list). */
  read: z.number(),
  /** The snapshot said the product had put them on the list; they were not there: joined again if wanted. */
  missing: z.number(),
  /** On the list, not in the segment, sent by this product before: removed (unless onLeave is keep). */
  strangerOurs: z.number(),
  /** On the list, not in the segment, never sent by this product: left alone unless removeForeign. */
  strangerForeign: z.number(),
  /** Of the foreign strangers, those this run removes (removeForeign on a product list). */
  foreignRemoved: z.number(),
  /** Tag mode: each segment tag's count and whether it was read back, in the run's segment order. */
  tags: z.array(TagCheckSchema).optional(),
});
export type Drift = z.infer<typeof DriftSchema>;

export const RunProgressSchema = z.object({
  batchesDone: z.number(),
  accepted: z.number(),
  failed: z.number(),
  dropped: z.number(),
  throttled: z.number(),
  failedByReason: counts,
  requests: counts,
});
export type RunProgress = z.infer<typeof RunProgressSchema>;

export const RunRecordSchema = z.object({
  id: z.string().min(1),
  exportId: z.string().min(1),
  connectionId: z.string().min(1),
  trigger: RunTriggerSchema,
  status: RunStatusSchema,
  /** Why a run was skipped, failed or cancelled, in words a marketer can act on. */
  reason: z.string().optional(),
  requestedBy: z.string(),
  /** The refresh whose arrival started (or skipped) this run, for runs a drop triggered. */
  refreshId: z.string().min(1).optional(),
  /** Set on a re-send or retry: the run plans and sends only these contacts, whatever their snapshot says. */
  contacts: ContactFilterSchema.optional(),
  /** The run whose failed contacts this run sends again (`POST /runs/{id}/retry-failed`). */
  retryOf: z.string().min(1).optional(),
  /** The run reads its lists back and repairs drift first (on demand, or the export repairs every run). */
  repair: z.boolean().optional(),
  /** Set once a repair run has read its lists back. */
  drift: DriftSchema.optional(),
  createdAt: iso,
  planningFinishedAt: iso.optional(),
  finishedAt: iso.optional(),
  durationMs: z.number().optional(),
  /** The export's settings as this run uses them (an edit mid-run does not change a run). */
  segmentIds: z.array(z.string()),
  membership: z.enum(['list', 'field', 'tag']),
  /** The whole export configuration, frozen when the run started (absent on runs recorded before). */
  config: ExportConfigSchema.optional(),
  planningDone: z.boolean(),
  /**
   * Set once, when the plan is decided (before any batch is queued): batches numbered 0…total-1.
   * A batch numbered beyond it is never recorded, so `batchesDone` can never exceed it.
   */
  batchesTotal: z.number().optional(),
  /** Contact operations in the decided plan: accepted + failed + dropped never exceeds it. */
  itemsPlanned: z.number().optional(),
  /** Batches the planner has queued so far (a resumed planner continues after them). */
  batchesQueued: z.number().optional(),
  /** The planner saved a checkpoint: a resume without one means it expired. */
  checkpointed: z.boolean().optional(),
  /** The planner invocation holding this run's planning, and until when (its deadline). */
  planLease: z.object({ holder: z.string(), until: iso }).optional(),
  /** Last time planning or sending moved forward; the watchdog ends runs that stop moving. */
  lastProgressAt: iso.optional(),
  cancelRequested: z.boolean().optional(),
  /** Removals the guardrail held (status `awaiting_approval`), and the admin's decision once made. */
  hold: RunHoldSchema.optional(),
  estimate: RequestEstimateSchema.optional(),
  planning: PlanningStatsSchema.optional(),
  progress: RunProgressSchema,
});
export type RunRecord = z.infer<typeof RunRecordSchema>;
