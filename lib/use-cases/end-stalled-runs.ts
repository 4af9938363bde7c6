import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { endRun, type LifecycleDeps } from './run-lifecycle.ts';

export interface WatchdogSettings {
  /**
   * A run that has not moved for this long is stalled. Default 30 minutes: twice the longest gap a
   * healthy run has — a planner invocation between checkpoints (≤ 15 min) or a batch's retry delay
   * (≤ 15 min).
   */
  stallAfterMs: number;
}

export const DEFAULT_STALL_AFTER_MS = 30 * 60_000;

export interface WatchdogSummary {
  checked: number;
  ended: string[];
}

const minutes = (ms: number): number => Math.round(ms / 60_000);

/** The last sign of life: progress, a planner's lease still running, or the run's start. */
const lastMoved = (run: RunRecord): number =>
  Math.max(
    Date.parse(run.createdAt),
    run.lastProgressAt === undefined ? 0 : Date.parse(run.lastProgressAt),
    run.planLease === undefined ? 0 : Date.parse(run.planLease.until),
  );

export const stalledReason = (stallAfterMs: number, since: number): string =>
  `Stalled: no progress for more than ${minutes(stallAfterMs)} minutes (last at ${new Date(since).toISOString()}). ` +
  'The run was ended so the export can run again; contacts not sent are counted as not sent, and the next run sends them.';

/**
 * The watchdog (scheduled every few minutes): ends every active run — real or dry — that has not
 * moved for `stallAfterMs` as `failed` with reason "Stalled" (a run awaiting approval is left alone), which releases its export's lock, so no
 * export is ever wedged by a lost message, a dead planner or a batch stuck in the dead-letter queue.
 * Batches of an ended run that still come up are recorded as not sent; they never reopen it.
 */
export const endStalledRuns = async (
  deps: LifecycleDeps,
  settings: WatchdogSettings = { stallAfterMs: DEFAULT_STALL_AFTER_MS },
): Promise<WatchdogSummary> => {
  const summary: WatchdogSummary = { checked: 0, ended: [] };
  const now = deps.clock.now();
  for (const exp of await deps.exports.list()) {
    for (const runId of [exp.activeRunId, exp.activeDryRunId]) {
      if (runId === undefined) continue;
      const run = await deps.runs.get(runId);
      // A held run is waiting for a person, not stalled: it keeps its export's lock until they decide.
      if (run === undefined || isTerminal(run.status) || run.status === 'awaiting_approval') continue;
      summary.checked++;
      const since = lastMoved(run);
      if (now - since <= settings.stallAfterMs) continue;
      if (await endRun(deps, run, 'failed', stalledReason(settings.stallAfterMs, since))) {
        deps.metrics?.count('RunsStalled');
        summary.ended.push(run.id);
      }
    }
  }
  if (summary.ended.length > 0) deps.logger.warn('stalled runs ended', { runs: summary.ended });
  return summary;
};
