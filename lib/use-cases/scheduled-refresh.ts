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
    try {
      const result = await startRun(deps, { exportId: exp.id, trigger: 'schedule', requestedBy: 'schedule' });
      if (result.started) summary.started.push(result.run.id);
      else summary.skipped.push({ exportId: exp.id, runId: result.run.id, reason: result.run.reason ?? '' });
    } catch (error) {
      if (!(error instanceof RunRefusedError)) {
        deps.logger.error('scheduled run could not start', { exportId: exp.id, error: String(error) });
        summary.skipped.push({ exportId: exp.id, reason: 'internal error; see logs' });
        continue;
      }
      const now = new Date(deps.clock.now()).toISOString();
      const run: RunRecord = {
        id: deps.newId(),
        exportId: exp.id,
        connectionId: exp.connectionId,
        trigger: 'schedule',
        status: 'skipped',
        reason: error.message,
        requestedBy: 'schedule',
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
  }
  deps.logger.info('scheduled refresh', { started: summary.started.length, skipped: summary.skipped.length });
  return summary;
};
