import type { RunRecord } from '#lib/domain/run-record.ts';

/** What the planner records on a run as it plans it (DynamoDB in AWS, on the run's item). */
export interface PlanLedger {
  /**
   * Takes the planning lease of a run for one planner invocation until `until` (its deadline), so
   * two deliveries of a plan message never plan at once. Succeeds when no lease is held, the held
   * one ended before `now`, or `holder` already holds it.
   */
  lease(runId: string, holder: string, now: string, until: string): Promise<boolean>;
  release(runId: string, holder: string): Promise<void>;
  /**
   * Decides the run's plan: its batch count and contact operations, before any batch is queued.
   * False when a different plan was decided already (the same plan again is a no-op, true).
   */
  commit(runId: string, plan: { batchesTotal: number; itemsPlanned: number; at: string }): Promise<boolean>;
  /** Planning moved on: a checkpoint was saved, or more batches were queued. */
  note(runId: string, update: { at: string; checkpointed?: boolean; batchesQueued?: number }): Promise<void>;
  /** Planning finished: totals and estimate; the run is now waiting for its batches. */
  complete(
    runId: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void>;
  /** Saves planning figures on the way (e.g. for a run that fails on the cap). */
  saveStats(runId: string, update: Pick<RunRecord, 'planning' | 'estimate' | 'drift'>): Promise<void>;
}
