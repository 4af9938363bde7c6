import * as z from 'zod';
import type { ErrorSample } from '#lib/domain/batch.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { RunHoldSchema } from '#lib/domain/removal-guardrail.ts';
import { RunStatusSchema, RunTriggerSchema } from '#lib/domain/run.ts';
import {
  DriftSchema,
  PlanningStatsSchema,
  RequestEstimateSchema,
  type RunRecord,
} from '#lib/domain/run-record.ts';
import type { RunPermissions } from '#lib/use-cases/export-access.ts';

export const RunViewSchema = z.object({
  id: z.string(),
  exportId: z.string(),
  connectionId: z
    .string()
    .meta({ description: 'The connection this run sends through (fixed when it started)' }),
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
  hold: RunHoldSchema.optional().meta({
    description:
      'Removals the removal guardrail held (status awaiting_approval): per target its members before the run ' +
      'and the removals planned; the admin decision once made. Absent when the run was never held',
  }),
  namedContacts: z
    .object({ kind: z.enum(['resend', 'retry']), count: z.number(), retryOf: z.string().optional() })
    .optional()
    .meta({
      description:
        'Set on a run that sends only the contacts it names: a re-send of one contact, or a retry of the ' +
        'contacts that failed in run `retryOf`. How many, never which',
    }),
  repair: z
    .literal(true)
    .optional()
    .meta({
      description:
        'Set on a run that reads its lists (or tags) back and repairs drift first (asked for, or the export ' +
        'repairs every run); absent otherwise',
    }),
  drift: DriftSchema.optional().meta({
    description:
      'What a repair run found on its lists or tags, by kind (docs/architecture.md#drift-repair); on a tag-mode ' +
      'run, also `tags`: each segment tag counted before planning and whether it was read back because its ' +
      'count disagreed (docs/ortto.md#verification). Absent until the lists are read or the tags counted, and ' +
      'on runs that do neither',
  }),
  /** A few failed contacts, emails masked. */
  errorSamples: z.array(z.object({ email: z.string(), reason: z.string(), batchNo: z.number().optional() })),
  config: ExportConfigSchema.nullable().meta({
    description:
      'The export configuration this run uses, frozen when it started (edits since do not apply); null for ' +
      'runs recorded before runs kept it',
  }),
  permissions: z.object({
    canCancel: z.boolean().meta({
      description:
        'Whether the caller may cancel this run (whether it is still active aside): admins; contributors ' +
        'where the export’s connection is shared with them. A run whose export was deleted: admins only',
    }),
  }),
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

export const runView = (
  run: RunRecord,
  samples: ErrorSample[],
  now: number,
  permissions: RunPermissions,
): RunView => {
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
    connectionId: run.connectionId,
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
    ...(run.hold === undefined ? {} : { hold: run.hold }),
    ...(run.contacts === undefined
      ? {}
      : {
          namedContacts: {
            kind: run.contacts.kind,
            count: run.contacts.emails.length,
            ...(run.retryOf === undefined ? {} : { retryOf: run.retryOf }),
          },
        }),
    ...(run.repair === true ? { repair: true as const } : {}),
    ...(run.drift === undefined ? {} : { drift: run.drift }),
    errorSamples: samples,
    config: run.config ?? null,
    permissions,
  };
};
