import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { emptyProgress, RunRefusedError, type StartRunDeps, startRun } from './start-run.ts';

export interface RefreshSummary {
  started: string[];
  skipped: Array<{ exportId: string; runId?: string; reason: string }>;
}

/**
 * The scheduled refresh (docs/architecture.md#scheduled-refresh): starts a run for every export with `scheduled = true` and a
 * connection. Detached exports never run. An export that cannot run gets a `skipped` run record
 * saying why, so its history explains the missing refresh; one export's problem never stops the rest.
 */
export const startScheduledRuns = async (deps: StartRunDeps): Promise<RefreshSummary> => {
  const summary: RefreshSummary = { started: [], skipped: [] };
  const exports = await deps.exports.list();
  for (const exp of exports) {
    if (!exp.scheduled || exp.connectionId === null) continue;
    await startScheduledExport(
      deps,
      { ...exp, connectionId: exp.connectionId },
      { requestedBy: 'schedule' },
      summary,
    );
  }
  deps.logger.info('scheduled refresh', { started: summary.started.length, skipped: summary.skipped.length });
  return summary;
};

/**
 * Starts one export on behalf of a refresh (the cron's, or a drop's with its `refreshId`) and adds
 * the outcome to `summary`. A refusal leaves a `skipped` run saying why; an unexpected error is
 * logged and counted, never thrown, so the other exports still start.
 */
export const startScheduledExport = async (
  deps: StartRunDeps,
  exp: ExportRecord & { connectionId: string },
  origin: { requestedBy: string; refreshId?: string },
  summary: RefreshSummary,
): Promise<void> => {
  const refresh = origin.refreshId === undefined ? {} : { refreshId: origin.refreshId };
  try {
    const result = await startRun(deps, {
      exportId: exp.id,
      trigger: 'schedule',
      requestedBy: origin.requestedBy,
      ...refresh,
    });
    if (result.started) summary.started.push(result.run.id);
    else summary.skipped.push({ exportId: exp.id, runId: result.run.id, reason: result.run.reason ?? '' });
  } catch (error) {
    if (!(error instanceof RunRefusedError)) {
      deps.logger.error('scheduled run could not start', {
        exportId: exp.id,
        ...refresh,
        error: String(error),
      });
      summary.skipped.push({ exportId: exp.id, reason: 'internal error; see logs' });
      return;
    }
    const now = new Date(deps.clock.now()).toISOString();
    const run: RunRecord = {
      id: deps.newId(),
      exportId: exp.id,
      connectionId: exp.connectionId,
      trigger: 'schedule',
      status: 'skipped',
      reason: error.message,
      requestedBy: origin.requestedBy,
      ...refresh,
      createdAt: now,
      finishedAt: now,
      durationMs: 0,
      segmentIds: exp.segmentIds,
      membership: exp.membership,
      planningDone: false,
      progress: emptyProgress(),
    };
    await deps.runs.create(run);
    summary.skipped.push({ exportId: exp.id, runId: run.id, reason: error.message });
  }
};
