import type { FatalRunError } from '#lib/domain/errors.ts';
import { KEY_REJECTED_REASON } from '#lib/domain/export-health.ts';
import { finalStatus, isTerminal, type RunStatus } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { MetricName, Metrics } from '#lib/ports/metrics.ts';
import type { Notifier } from '#lib/ports/notifier.ts';
import type { Runs } from '#lib/ports/runs.ts';
import { recordRunHealth } from './export-health.ts';

/** What ending a run needs: the run itself, and its export's lock. */
export interface LifecycleDeps {
  runs: Runs;
  exports: Exports;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

const RUN_METRIC: Partial<Record<RunStatus, MetricName>> = {
  succeeded: 'RunsSucceeded',
  completed_with_errors: 'RunsCompletedWithErrors',
  failed: 'RunsFailed',
  cancelled: 'RunsCancelled',
};

const FATAL_REASONS: Record<FatalRunError['reason'], string> = {
  // Export health reads a rejected key from this reason (lib/domain/export-health.ts).
  invalid_api_key: KEY_REJECTED_REASON,
  missing_api_key: "The connection's API key is missing from the secret store. An admin must set it again.",
  connection_removed: 'The connection was removed while the run was in progress.',
  configuration: 'The exporter is misconfigured (it could not read the API key); see the logs.',
};

/** A reason a marketer can act on, for a failure that stops the whole run. */
export const fatalReason = (error: FatalRunError): string => FATAL_REASONS[error.reason];

/** Releases the export's lock, records the last run and the export's health (notifying a change). */
const afterEnd = async (deps: LifecycleDeps, runId: string): Promise<void> => {
  const run = await deps.runs.get(runId);
  if (run === undefined) return;
  if (run.trigger === 'dry-run')
    await deps.exports.releaseActiveRun(run.exportId, run.id, undefined, 'dry-run');
  else {
    const { accepted, failed, dropped } = run.progress;
    await deps.exports.releaseActiveRun(run.exportId, run.id, {
      runId: run.id,
      status: run.status,
      ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
      counts: { unit: run.membership === 'list' ? 'memberships' : 'contacts', accepted, failed, dropped },
    });
  }
  deps.logger.info('run ended', {
    runId: run.id,
    exportId: run.exportId,
    status: run.status,
    reason: run.reason,
    durationMs: run.durationMs,
    accepted: run.progress.accepted,
    failed: run.progress.failed,
    dropped: run.progress.dropped,
  });
  const metric = RUN_METRIC[run.status];
  if (metric !== undefined) deps.metrics?.count(metric);
  if (run.trigger === 'dry-run') return;
  try {
    await recordRunHealth(deps, run);
  } catch (error) {
    // The run has ended and its lock is released; a lost notification must not undo either.
    deps.logger.warn('could not record the export health', { runId: run.id, error: String(error) });
  }
};

const timing = (run: RunRecord, now: number): { finishedAt: string; durationMs: number } => ({
  finishedAt: new Date(now).toISOString(),
  durationMs: Math.max(0, now - Date.parse(run.createdAt)),
});

/**
 * Ends a run early (failed or cancelled) if it has not ended yet. Exactly one caller wins; the
 * winner releases the export and notifies. Returns whether this call ended it.
 */
export const endRun = async (
  deps: LifecycleDeps,
  run: RunRecord,
  status: 'failed' | 'cancelled',
  reason: string,
): Promise<boolean> => {
  if (isTerminal(run.status)) return false;
  const won = await deps.runs.transition(run.id, ['planning', 'awaiting_approval', 'sending'], status, {
    reason,
    ...timing(run, deps.clock.now()),
  });
  if (won) await afterEnd(deps, run.id);
  return won;
};

/** A dry run ends when its planning does: `succeeded`, its lock released. */
export const completeDryRun = async (deps: LifecycleDeps, run: RunRecord): Promise<void> => {
  const won = await deps.runs.transition(run.id, ['planning'], 'succeeded', timing(run, deps.clock.now()));
  if (won) await afterEnd(deps, run.id);
};

/**
 * Finalises a run whose planning is done and whose every batch is recorded. Safe to call from the
 * planner and from every sender: the conditional transition lets exactly one of them win.
 */
export const finaliseIfComplete = async (
  deps: LifecycleDeps,
  runId: string,
): Promise<RunStatus | undefined> => {
  const run = await deps.runs.get(runId);
  if (run === undefined || run.status !== 'sending' || !run.planningDone) return undefined;
  if (run.batchesTotal === undefined || run.progress.batchesDone < run.batchesTotal) return undefined;
  const status = finalStatus(run.progress);
  const won = await deps.runs.transition(run.id, ['sending'], status, timing(run, deps.clock.now()));
  if (!won) return undefined;
  await afterEnd(deps, run.id);
  return status;
};
