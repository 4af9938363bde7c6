import * as z from 'zod';

/**
 * What people are told about: how an export's runs have been ending. `held` is a run waiting for an
 * admin's approval (the removal guardrail's `awaiting_approval`).
 */
export const EXPORT_HEALTH_STATES = ['healthy', 'failing', 'key_rejected', 'held'] as const;
export const ExportHealthStateSchema = z.enum(EXPORT_HEALTH_STATES);
export type ExportHealthState = z.infer<typeof ExportHealthStateSchema>;

/**
 * The reason a run gets when Autopilot refuses the connection's key. Health reads the key rejection
 * from it, so it has one home: the run record keeps a reason, not the error that caused it.
 */
export const KEY_REJECTED_REASON =
  "Autopilot rejected the connection's API key (401). An admin must rotate the key; the run stopped.";

const iso = z.string().min(1);

/** An export's health as stored on the export; `seq` guards the conditional write. */
export const ExportHealthSchema = z.object({
  state: ExportHealthStateSchema,
  /** When the export entered this state. */
  since: iso,
  /** Failing (or key-rejected) runs since the export was last healthy. */
  failingRuns: z.number().int().min(0),
  reason: z.string().optional(),
  /** The run that set it, and when that run started: an older run never overwrites a newer one. */
  runId: z.string().min(1),
  runCreatedAt: iso,
  seq: z.number().int().min(1),
});
export type ExportHealth = z.infer<typeof ExportHealthSchema>;

/** What health needs of a run: its status is a plain string so a status added later still reads. */
export interface RunOutcome {
  id: string;
  createdAt: string;
  status: string;
  trigger?: string;
  reason?: string | undefined;
}

/** The health a run's outcome stands for; undefined when it says nothing about the export's health. */
export const healthOfRun = (run: RunOutcome): ExportHealthState | undefined => {
  if (run.trigger === 'dry-run') return undefined;
  switch (run.status) {
    case 'succeeded':
      return 'healthy';
    case 'completed_with_errors':
      return 'failing';
    case 'failed':
      return run.reason === KEY_REJECTED_REASON ? 'key_rejected' : 'failing';
    case 'awaiting_approval':
      return 'held';
    default:
      // Planning, sending, cancelled (by a person or a removed connection) or skipped (lock held).
      return undefined;
  }
};

export interface HealthTransition {
  from: ExportHealthState | undefined;
  to: ExportHealthState;
  /** Failing runs in the streak that just ended (on a recovery) or that the new state belongs to. */
  failingRuns: number;
  reason?: string;
}

const isBad = (state: ExportHealthState): boolean => state === 'failing' || state === 'key_rejected';

/** Runs are ordered by start time, then id: ids made in one millisecond still compare. */
const runOrder = (run: { createdAt: string; id: string }): string => `${run.createdAt}#${run.id}`;

/**
 * The export's health after `run` ended, and the transition to tell people about (only when the
 * state changed; a first run that is healthy is not news). Undefined: nothing to record (the run
 * says nothing about health, or a newer run has already been recorded, or this one was).
 */
export const nextHealth = (
  current: ExportHealth | undefined,
  run: RunOutcome,
  at: string,
): { health: ExportHealth; change?: HealthTransition } | undefined => {
  const state = healthOfRun(run);
  if (state === undefined) return undefined;
  // The run that was held ends (approved or rejected): the one later word a run may have on itself.
  const leavesHold = current?.state === 'held' && current.runId === run.id && state !== 'held';
  if (
    current !== undefined &&
    !leavesHold &&
    runOrder(run) <= runOrder({ createdAt: current.runCreatedAt, id: current.runId })
  )
    return undefined;
  const previous = current?.failingRuns ?? 0;
  const failingRuns = state === 'healthy' ? 0 : isBad(state) ? previous + 1 : previous;
  const changed = current === undefined ? state !== 'healthy' : current.state !== state;
  const reason = state === 'healthy' ? undefined : run.reason;
  const health: ExportHealth = {
    state,
    since: changed || current === undefined ? at : current.since,
    failingRuns,
    ...(reason === undefined ? {} : { reason }),
    runId: run.id,
    runCreatedAt: run.createdAt,
    seq: (current?.seq ?? 0) + 1,
  };
  if (!changed) return { health };
  const change: HealthTransition = {
    from: current?.state,
    to: state,
    failingRuns: state === 'healthy' ? previous : failingRuns,
    ...(reason === undefined ? {} : { reason }),
  };
  return { health, change };
};
