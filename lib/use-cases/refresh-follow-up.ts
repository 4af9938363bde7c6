import { TransientError } from '#lib/domain/errors.ts';
import type { Notifier } from '#lib/ports/notifier.ts';
import type { RefreshStatus } from '#lib/ports/refreshes.ts';
import { resumeRunOfRefresh, runOfRefresh } from './refresh-resume.ts';
import { type RefreshSummary, startScheduledExport } from './scheduled-refresh.ts';
import type { StartRunDeps } from './start-run.ts';

/** Who asked for runs a drop starts, as `schedule` is for the cron refresh. */
export const REFRESH_REQUESTER = 'refresh';

export interface FollowUpDeps extends StartRunDeps {
  notifier: Pick<Notifier, 'refreshRejected'>;
}

export interface FollowUpSummary extends RefreshSummary {
  /** Exports whose run of this refresh an earlier, interrupted arrival had already started. */
  alreadyStarted: string[];
}

/**
 * The follow-up of a recorded refresh, for the arrival holding its lease: a rejected refresh is
 * notified; a complete one starts every scheduled export using any of its segments, as the cron
 * refresh starts them (held locks and refusals leave a `skipped` run saying why). `resuming` (an
 * earlier arrival recorded it and was cut short) first looks for each export's run of this refresh
 * and starts one only where there is none, so no export runs twice for one refresh. When an export
 * could not start for an unexpected reason this throws once the others are started, so the arrival
 * is retried and resumes.
 */
export const followUpRefresh = async (
  deps: FollowUpDeps,
  status: RefreshStatus,
  resuming: boolean,
): Promise<FollowUpSummary> => {
  const { refreshId } = status;
  const summary: FollowUpSummary = { started: [], skipped: [], alreadyStarted: [] };
  if (status.outcome === 'rejected') {
    await deps.notifier.refreshRejected({ refreshId, reasons: status.reasons ?? [] });
    return summary;
  }
  const refreshed = new Set(status.segmentIds);
  for (const exp of await deps.exports.list()) {
    if (!exp.scheduled || exp.connectionId === null) continue;
    if (!exp.segmentIds.some((id) => refreshed.has(id))) continue;
    if (resuming) {
      const run = await runOfRefresh(deps.runs, exp.id, refreshId, status.arrivedAt);
      if (run !== undefined && (await resumeRunOfRefresh(deps, exp, run)) === 'done') {
        summary.alreadyStarted.push(exp.id);
        continue;
      }
    }
    await startScheduledExport(
      deps,
      { ...exp, connectionId: exp.connectionId },
      { requestedBy: REFRESH_REQUESTER, refreshId },
      summary,
    );
  }
  const failed = summary.skipped.filter((s) => s.runId === undefined).length;
  if (failed > 0) {
    throw new TransientError(
      `${failed} export(s) of refresh ${refreshId} could not start; the arrival is retried and starts only those`,
    );
  }
  return summary;
};
