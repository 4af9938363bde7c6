import * as z from 'zod';
import { type Caller, seesConnectionDetails, usableBy } from '#lib/domain/access.ts';
import type { ErrorSample } from '#lib/domain/batch.ts';
import { type Connection, ConnectionSchema } from '#lib/domain/connection.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { RunStatusSchema, RunTriggerSchema } from '#lib/domain/run.ts';
import { PlanningStatsSchema, RequestEstimateSchema, type RunRecord } from '#lib/domain/run-record.ts';
import type { ExportPermissions } from '#lib/use-cases/export-access.ts';

const canUse = z.boolean().meta({
  description:
    'Whether the caller may write and run exports on it (admins; contributors when it is shared with ' +
    'contributors or names them as export users)',
});

/** A connection as an export names it: its name and type. */
export const ConnectionRefSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  type: z.literal('autopilot'),
});

/** What non-admins see of a connection: its name and type, and whether they may use it. */
export const ConnectionSummarySchema = ConnectionRefSchema.extend({ canUse });

/** What admins see: everything but the API key, which no response ever contains. */
export const ConnectionViewSchema = ConnectionSchema.extend({ canUse });
export const ConnectionAnyViewSchema = z.union([ConnectionViewSchema, ConnectionSummarySchema]);

export const connectionView = (caller: Caller, c: Connection): z.infer<typeof ConnectionAnyViewSchema> => {
  const usable = usableBy(caller, c);
  return seesConnectionDetails(caller)
    ? { ...c, canUse: usable }
    : { id: c.id, displayName: c.displayName, type: c.type, canUse: usable };
};

export const ExportStatusSchema = z.enum(['ready', 'running', 'no_connection', 'connection_needs_attention']);

export const ExportViewSchema = ExportConfigSchema.and(
  z.object({
    id: z.string(),
    version: z.number(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedBy: z.string(),
    updatedAt: z.string(),
    status: ExportStatusSchema,
    connection: ConnectionRefSchema.nullable(),
    activeRunId: z.string().nullable(),
    lastRun: z
      .object({ runId: z.string(), status: RunStatusSchema, finishedAt: z.string().optional() })
      .nullable(),
    permissions: z.object({ canEdit: z.boolean(), canRun: z.boolean() }),
  }),
);
export type ExportView = z.infer<typeof ExportViewSchema>;

/** An export as a save returns it: with what the save noticed but did not refuse. */
export const SavedExportViewSchema = ExportViewSchema.and(
  z.object({
    warnings: z
      .array(z.object({ path: z.string(), reason: z.string() }))
      .meta({ description: 'Mapped attributes the selected segments do not seem to carry (sampled)' }),
  }),
);

export const exportView = (
  exp: ExportRecord,
  connection: Connection | undefined,
  permissions: ExportPermissions,
): ExportView => {
  const status = (() => {
    if (exp.connectionId === null || connection === undefined) return 'no_connection' as const;
    if (connection.status !== 'active') return 'connection_needs_attention' as const;
    return exp.activeRunId === undefined ? ('ready' as const) : ('running' as const);
  })();
  const { activeRunId, lastRun, ...rest } = exp;
  return {
    ...rest,
    status,
    connection: connection
      ? { id: connection.id, displayName: connection.displayName, type: connection.type }
      : null,
    activeRunId: activeRunId ?? null,
    lastRun: lastRun ?? null,
    permissions,
  };
};

export const RunViewSchema = z.object({
  id: z.string(),
  exportId: z.string(),
  trigger: RunTriggerSchema,
  status: RunStatusSchema,
  reason: z.string().nullable(),
  requestedBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  progress: z.object({
    unit: z.enum(['memberships', 'contacts']).meta({
      description:
        'What accepted, failed and dropped count: list memberships in list mode (a contact on two lists ' +
        'counts twice), contacts in field mode',
    }),
    batchesDone: z.number(),
    batchesTotal: z.number().nullable(),
    percent: z.number().nullable(),
    accepted: z.number(),
    failed: z.number(),
    dropped: z.number(),
    failedByReason: z.record(z.string(), z.number()),
    requests: z.record(z.string(), z.number()),
    throttled: z.number(),
  }),
  /** When the run should finish at its rate budget (sending runs only); never before now. */
  eta: z.string().nullable(),
  estimate: RequestEstimateSchema.nullable(),
  planning: PlanningStatsSchema.nullable(),
  /** A dry run's answer: what a real run would do now. */
  dryRun: z
    .object({
      adds: z.number(),
      updates: z.number(),
      removals: z.number(),
      unchanged: z.number(),
      invalid: z.number(),
      overCap: z.number(),
      requests: z.number(),
      durationSeconds: z.number(),
      durationSecondsAtDocumentedRate: z.number(),
    })
    .nullable(),
  /** A few failed contacts, emails masked. */
  errorSamples: z.array(z.object({ email: z.string(), reason: z.string(), batchNo: z.number().optional() })),
});
export type RunView = z.infer<typeof RunViewSchema>;

const sum = (counts: Record<string, number> | readonly number[]): number =>
  Object.values(counts).reduce((a: number, b: number) => a + b, 0);

/** The latest instant a Date can hold. */
const MAX_TIME = 8.64e15;

/**
 * When a sending run should finish at its rate budget: the requests still planned at the budget's
 * pace from now, so never before now; null when it cannot be told (no final estimate, no pace).
 */
const etaOf = (run: RunRecord, now: number): string | null => {
  const estimate = run.estimate;
  if (run.status !== 'sending' || estimate === undefined || estimate.upperBound) return null;
  if (!(estimate.ratePerSecond > 0)) return null;
  const remaining = Math.max(0, estimate.totalRequests - sum(run.progress.requests));
  const at = now + (remaining / estimate.ratePerSecond) * 1000;
  return Number.isFinite(at) && at <= MAX_TIME ? new Date(Math.max(now, at)).toISOString() : null;
};

export const runView = (run: RunRecord, samples: ErrorSample[], now: number): RunView => {
  const p = run.progress;
  const total = run.batchesTotal ?? null;
  const percent = total === null ? null : total === 0 ? 100 : Math.floor((p.batchesDone / total) * 100);
  const eta = etaOf(run, now);
  const planning = run.planning ?? null;
  const dryRun =
    run.trigger === 'dry-run' && planning && run.estimate
      ? {
          adds: planning.added,
          updates: planning.changed,
          removals: sum(planning.leaves),
          unchanged: planning.unchanged,
          invalid: sum(planning.invalid),
          overCap: planning.overCapProfiles,
          requests: run.estimate.totalRequests,
          durationSeconds: run.estimate.seconds,
          durationSecondsAtDocumentedRate: run.estimate.secondsAtDocumentedRate,
        }
      : null;
  return {
    id: run.id,
    exportId: run.exportId,
    trigger: run.trigger,
    status: run.status,
    reason: run.reason ?? null,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt ?? null,
    durationMs: run.durationMs ?? null,
    progress: {
      unit: run.membership === 'list' ? ('memberships' as const) : ('contacts' as const),
      ...p,
      batchesTotal: total,
      percent,
    },
    eta,
    estimate: run.estimate ?? null,
    planning,
    dryRun,
    errorSamples: samples,
  };
};

export const SegmentViewSchema = z.object({ id: z.string(), name: z.string(), profiles: z.number() });

/** Whether a selection of segments can fit the cap: sizes are profiles, so a sum over the cap only "may" exceed it. */
export const SelectionCheckSchema = z.object({
  segmentIds: z.array(z.string()),
  cap: z.number(),
  profilesInLargest: z.number(),
  profilesInAll: z.number(),
  verdict: z.enum(['within_cap', 'may_exceed_cap', 'exceeds_cap']),
  message: z.string(),
});
