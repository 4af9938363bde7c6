import type { ExportRecord } from '#lib/domain/export-record.ts';
import { MESSAGE_VERSION } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { StartRunDeps } from './start-run.ts';

/** Runs looked at per page when looking for an export's run of a refresh. */
const RUN_PAGE = 25;
/** Runs of a refresh are created after it arrived; the margin absorbs clock skew between hosts. */
const CLOCK_MARGIN_MS = 5 * 60_000;

export const INTERRUPTED_REASON =
  'The refresh arrival starting this run was interrupted before the run took its export; ' +
  'a new run of the refresh was started instead.';

/** The export's newest run carrying `refreshId` (started or skipped), created after the refresh arrived. */
export const runOfRefresh = async (
  runs: Pick<Runs, 'list'>,
  exportId: string,
  refreshId: string,
  arrivedAt: string,
): Promise<RunRecord | undefined> => {
  const since = Date.parse(arrivedAt) - CLOCK_MARGIN_MS;
  let cursor: string | undefined;
  do {
    const page = await runs.list(exportId, RUN_PAGE, cursor);
    for (const run of page.runs) {
      if (run.refreshId === refreshId) return run;
      if (Date.parse(run.createdAt) < since) return undefined;
    }
    cursor = page.next;
  } while (cursor !== undefined);
  return undefined;
};

/**
 * What an interrupted arrival left of an export's run, when resuming it: `done` when the run got
 * past its start (it holds the export, or has ended), after queueing its plan message again in case
 * the interruption came before it (the planner takes a repeated message in its stride); `restart`
 * when the run was recorded but never took the export's lock, after marking it skipped, so the
 * caller starts a new one.
 */
export const resumeRunOfRefresh = async (
  deps: Pick<StartRunDeps, 'runs' | 'exports' | 'planQueue' | 'clock' | 'logger'>,
  exp: ExportRecord,
  run: RunRecord,
): Promise<'done' | 'restart'> => {
  if (run.status !== 'planning') return 'done';
  const live = await deps.exports.get(exp.id);
  const holds = run.trigger === 'dry-run' ? live?.activeDryRunId : live?.activeRunId;
  if (holds === run.id) {
    await deps.planQueue.send([
      { v: MESSAGE_VERSION, type: 'plan', runId: run.id, exportId: exp.id, resume: false },
    ]);
    deps.logger.info('plan message of an interrupted refresh run queued again', { runId: run.id });
    return 'done';
  }
  const now = new Date(deps.clock.now()).toISOString();
  const moved = await deps.runs.transition(run.id, ['planning'], 'skipped', {
    reason: INTERRUPTED_REASON,
    finishedAt: now,
    durationMs: 0,
  });
  // Not moved: it ended, or moved on, meanwhile; either way it was started.
  return moved ? 'restart' : 'done';
};
