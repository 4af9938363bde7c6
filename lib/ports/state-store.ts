import * as z from 'zod';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { MembershipTarget } from '#lib/domain/membership-targets.ts';
import type { BulkMembership } from '#lib/domain/plan.ts';
import { RunStatusSchema, RunTriggerSchema } from '#lib/domain/run.ts';

const iso = z.string().min(1);
const counts = z.record(z.string(), z.number());

export const ConnectionSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1).max(200),
  type: z.literal('autopilot'),
  /** `invalid_key`: Autopilot refused the key during a run; runs refuse to start until it is rotated. */
  status: z.enum(['active', 'invalid_key']),
  consent: z.object({ acceptedBy: z.string().min(1), acceptedAt: iso, noticeVersion: z.string().min(1) }),
  sharing: z.enum(['admins', 'admins+contributors']),
  cap: z.number().int().positive(),
  ratePerSecond: z.number().positive(),
  bulkMembership: z.object({
    state: z.enum(['supported', 'unsupported', 'unknown']),
    checkedAt: iso.optional(),
    /** A probe in progress: which batch runs it (`runId#batchNo`) and since when (a stale claim may be taken over). */
    probe: z.object({ claimant: z.string(), startedAt: iso }).optional(),
    /**
     * The run whose own probe last confirmed `supported`. A run trusts bulk membership only after
     * confirming it itself (docs/reliability.md): the answer of an earlier run is a belief, not evidence.
     */
    verifiedRun: z.string().optional(),
  }),
  createdBy: z.string(),
  createdAt: iso,
  updatedBy: z.string(),
  updatedAt: iso,
  version: z.number().int().min(1),
});
export type Connection = z.infer<typeof ConnectionSchema>;

export const ExportRecordSchema = ExportConfigSchema.and(
  z.object({
    id: z.string().min(1),
    createdBy: z.string(),
    createdAt: iso,
    updatedBy: z.string(),
    updatedAt: iso,
    version: z.number().int().min(1),
    /** The run holding the export's one-active-run lock. */
    activeRunId: z.string().optional(),
    /** The dry run holding the export's one-active-dry-run lock (dry runs never block real runs). */
    activeDryRunId: z.string().optional(),
    lastRun: z.object({ runId: z.string(), status: RunStatusSchema, finishedAt: iso.optional() }).optional(),
  }),
);
export type ExportRecord = z.infer<typeof ExportRecordSchema>;

export const RequestEstimateSchema = z.object({
  /** Requests by kind (bulkUpsert, upsertWithList, listRemove, ...). */
  requests: counts,
  totalRequests: z.number(),
  /** DESIGN.md §2's price of the same changes: what no batching could beat. */
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
  createdAt: iso,
  planningFinishedAt: iso.optional(),
  finishedAt: iso.optional(),
  durationMs: z.number().optional(),
  /** The export's settings as this run uses them (an edit mid-run does not change a run). */
  segmentIds: z.array(z.string()),
  membership: z.enum(['list', 'field']),
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
  estimate: RequestEstimateSchema.optional(),
  planning: PlanningStatsSchema.optional(),
  progress: RunProgressSchema,
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/**
 * What part of one batch did, recorded exactly once however often SQS delivers it. A batch is
 * recorded in ranges of its items (`from` … `to`), so the work of a delivery that fails half way is
 * kept and only the rest is sent again.
 */
export interface BatchOutcome {
  /** When it was recorded (the run's last progress). */
  at: string;
  accepted: number;
  failed: Record<string, number>;
  dropped: number;
  requests: Record<string, number>;
  throttled: number;
  samples: ErrorSample[];
}

export interface ErrorSample {
  /** Masked unless the operator opted out of masking. */
  email: string;
  reason: string;
  batchNo?: number;
}

/** One contact's snapshot change, applied only after the destination accepted the write. */
export interface SnapshotChange {
  key: string;
  /** New content hash; null leaves it as is. */
  hash: string | null;
  /** The address as sent when its case differs from the key. */
  email?: string;
  join: string[];
  leave: string[];
  /**
   * Segments whose membership becomes uncertain: a join or leave is about to be attempted (or was,
   * and its outcome is unknown). A later accepted join or leave makes it certain again.
   */
  maybe?: string[];
  /** Drop the contact's hash too: it left every segment. */
  forget: boolean;
}

export interface StoredSnapshotEntry {
  key: string;
  hash: string;
  email?: string;
  /** Segments the contact is certainly on. */
  segmentIds: string[];
  /** Segments whose membership is uncertain (see SnapshotChange.maybe). */
  maybeSegmentIds?: string[];
}

export type ListMapping = { listId: string } | { claimedBy: string; claimedAt: string };

/** How far the sending of one batch has got: items before `next` are recorded; `done` when all are. */
export interface BatchState {
  next: number;
  done: boolean;
  /** Until when a delivery holds the batch (see leaseBatch). */
  leaseUntil?: string;
}

/** Which items of a batch an outcome covers; `final` marks the batch done. */
export interface BatchRange {
  from: number;
  to: number;
  final: boolean;
}

/** Whether a range was recorded by this call, and where the batch stands now. */
export interface RecordResult {
  recorded: boolean;
  state: BatchState;
}

/** A batch number the run's decided plan does not contain (or the run has no plan yet). */
export class BatchOutsidePlanError extends Error {
  override readonly name = 'BatchOutsidePlanError';
  constructor(
    readonly runId: string,
    readonly batchNo: number,
  ) {
    super(`Batch ${batchNo} is not part of the decided plan of run ${runId}`);
  }
}

/** Which of an export's two run locks: one real run and one dry run may be active at once. */
export type RunSlot = 'run' | 'dry-run';

/**
 * Everything the pipeline remembers (DynamoDB in AWS). Writes that must happen once are
 * conditional and report whether they won.
 */
export interface StateStore {
  // Connections
  /**
   * Creates (`expectNew`) or revises (`expectVersion`) the connection. A revision leaves `status` and
   * `bulkMembership` as stored (system state, changed only through their own methods, which never
   * change `version`).
   */
  putConnection(
    connection: Connection,
    condition: { expectVersion?: number; expectNew?: boolean },
  ): Promise<boolean>;
  getConnection(id: string): Promise<Connection | undefined>;
  listConnections(): Promise<Connection[]>;
  deleteConnection(id: string): Promise<void>;
  /**
   * Claims the bulk-membership probe for `claimant` (one batch: `runId#batchNo`). Succeeds only while an
   * answer is still needed — state unknown, last checked before `answerStaleBefore`, or `supported`
   * but not yet confirmed by `forRun` — and no other claimant holds a claim younger than
   * `claimStaleBefore`.
   */
  claimProbe(
    connectionId: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean>;
  /**
   * Records the probe's answer (or, with `result` unknown, releases the claim). A `supported` answer
   * records `verifiedRun`; the others clear it.
   */
  settleProbe(
    connectionId: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void>;
  setConnectionStatus(connectionId: string, status: Connection['status']): Promise<void>;
  /** Forgets what bulk membership was found to do (a new key may be a new account): the next run probes. */
  resetBulkMembership(connectionId: string): Promise<void>;

  // Exports
  /**
   * Creates (`expectNew`) or revises (`expectVersion`) the export's configuration. A revision leaves the
   * system's own fields (run locks, last run) as stored: they are not the user's to overwrite, and
   * system writes never change `version`.
   */
  putExport(
    record: ExportRecord,
    condition: { expectVersion?: number; expectNew?: boolean },
  ): Promise<boolean>;
  getExport(id: string): Promise<ExportRecord | undefined>;
  listExports(): Promise<ExportRecord[]>;
  /**
   * Deletes the export; with `expect`, only while its run lock is as given (absent: no run holds it).
   * True when this call deleted it: of concurrent deletes exactly one wins.
   */
  deleteExport(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean>;
  /**
   * Takes one of the export's run locks (or takes it over from `replacing`, a run known to be dead).
   * False when the export is gone or another run holds it.
   */
  claimActiveRun(exportId: string, runId: string, replacing?: string, slot?: RunSlot): Promise<boolean>;
  /** Releases the lock held by `runId` and, for a real run, records it as the export's last. */
  releaseActiveRun(
    exportId: string,
    runId: string,
    lastRun: NonNullable<ExportRecord['lastRun']> | undefined,
    slot?: RunSlot,
  ): Promise<void>;

  // Runs
  createRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(exportId: string, limit: number, cursor?: string): Promise<{ runs: RunRecord[]; next?: string }>;
  /** Moves a run to `to` only if its status is one of `from`; returns whether it did. */
  transitionRun(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch?: Partial<Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt'>>,
  ): Promise<boolean>;
  /**
   * Takes the planning lease of a run for one planner invocation until `until` (its deadline), so
   * two deliveries of a plan message never plan at once. Succeeds when no lease is held, the held
   * one ended before `now`, or `holder` already holds it.
   */
  leasePlanning(id: string, holder: string, now: string, until: string): Promise<boolean>;
  releasePlanning(id: string, holder: string): Promise<void>;
  /**
   * Decides the run's plan: its batch count and contact operations, before any batch is queued.
   * False when a different plan was decided already (the same plan again is a no-op, true).
   */
  commitPlan(id: string, plan: { batchesTotal: number; itemsPlanned: number; at: string }): Promise<boolean>;
  /** Planning moved on: a checkpoint was saved, or more batches were queued. */
  notePlanning(
    id: string,
    update: { at: string; checkpointed?: boolean; batchesQueued?: number },
  ): Promise<void>;
  /** Planning finished: totals and estimate; the run is now waiting for its batches. */
  completePlanning(
    id: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void>;
  /** Saves planning figures on the way (e.g. for a run that fails on the cap). */
  savePlanning(id: string, update: Pick<RunRecord, 'planning' | 'estimate'>): Promise<void>;
  requestCancel(id: string): Promise<void>;
  /**
   * Records the outcome of items `from`…`to` of a batch exactly once, in one transaction with the run's
   * counters (and `batchesDone` when `final`). Recorded only when the batch stands at `from` (nothing
   * recorded yet when 0) and is not done; otherwise nothing changes and the result says where the batch
   * stands. Throws BatchOutsidePlanError for a batch number outside the run's decided plan.
   */
  recordBatch(
    runId: string,
    batchNo: number,
    range: BatchRange,
    outcome: BatchOutcome,
  ): Promise<RecordResult>;
  /** Where the batch stands; undefined when nothing of it is recorded. */
  getBatch(runId: string, batchNo: number): Promise<BatchState | undefined>;
  /**
   * Takes a batch for one delivery until `until` (its deadline), so two deliveries of one message
   * never send it at once. Succeeds when the batch is not done and nobody else holds an unexpired
   * lease (or `holder` does).
   */
  leaseBatch(runId: string, batchNo: number, holder: string, now: string, until: string): Promise<boolean>;
  releaseBatch(runId: string, batchNo: number, holder: string): Promise<void>;
  /** Adds requests made by a delivery that did not complete (they were still sent). */
  addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void>;
  listErrorSamples(runId: string, limit: number): Promise<ErrorSample[]>;

  // Planner checkpoints (resumable planning)
  saveCheckpoint(runId: string, data: string): Promise<void>;
  loadCheckpoint(runId: string): Promise<string | undefined>;
  deleteCheckpoint(runId: string): Promise<void>;

  // Snapshot
  readSnapshot(exportId: string): AsyncIterable<StoredSnapshotEntry>;
  applySnapshot(exportId: string, changes: readonly SnapshotChange[]): Promise<void>;
  /** Forgets everything the export sent (its email keys are personal data): used when it is deleted. */
  deleteSnapshot(exportId: string): Promise<void>;
  /** The destination list each segment's remembered memberships refer to (list mode). */
  snapshotLists(exportId: string): Promise<Record<string, string>>;
  /**
   * Points a segment's memberships at `listId`. When the list changed (deleted in Autopilot and
   * recreated, or retitled), the memberships remembered for the old list are dropped first: nobody
   * is on a new list yet.
   */
  setSnapshotList(exportId: string, segmentId: string, listId: string): Promise<void>;

  // Destination lists, per connection and title
  getList(connectionId: string, title: string): Promise<ListMapping | undefined>;
  claimList(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean>;
  saveList(connectionId: string, title: string, listId: string): Promise<void>;
  forgetList(connectionId: string, title: string): Promise<void>;

  // Membership targets (lists and membership fields), one owning export each per connection
  /**
   * Reserves the targets for `exportId`, each only if no other export holds it. Returns the targets
   * another export holds; when there are any, nothing new is reserved by this call.
   */
  claimTargets(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>>;
  /** Releases every target `exportId` holds on the connection except those in `keep`. */
  releaseTargets(connectionId: string, exportId: string, keep?: readonly MembershipTarget[]): Promise<void>;
  /** Who holds each target (undefined: nobody). */
  targetOwners(
    connectionId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<string | undefined>>;
}
