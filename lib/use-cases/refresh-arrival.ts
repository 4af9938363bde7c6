import type { RefreshManifest } from '#lib/domain/refresh-manifest.ts';
import type { Refreshes } from '#lib/ports/refreshes.ts';
import { type RefreshSummary, startScheduledExport } from './scheduled-refresh.ts';
import type { StartRunDeps } from './start-run.ts';

export interface RefreshArrivalDeps extends StartRunDeps {
  refreshes: Pick<Refreshes, 'record'>;
}

export interface RefreshArrivalSummary extends RefreshSummary {
  refreshId: string;
  /** `seen`: the refresh had arrived before, so this arrival started nothing. */
  recorded: 'new' | 'seen';
}

/** Who asked for runs a drop starts, as `schedule` is for the cron refresh. */
const REQUESTED_BY = 'refresh';

/**
 * A drop is a refresh (docs/architecture.md#refresh-arrival): a manifest's arrival starts every
 * scheduled export that uses any of its segments, once per refresh id however often the manifest is
 * uploaded or its event delivered. Each export is started as the scheduled refresh starts it: held
 * locks and refusals leave a `skipped` run saying why, and one export's problem never stops the rest.
 */
export const startRefreshRuns = async (
  deps: RefreshArrivalDeps,
  manifest: RefreshManifest,
): Promise<RefreshArrivalSummary> => {
  const { refreshId } = manifest;
  const segmentIds = manifest.segments.map((s) => s.id);
  const recorded = await deps.refreshes.record({
    refreshId,
    createdAt: manifest.createdAt,
    segmentIds,
    arrivedAt: new Date(deps.clock.now()).toISOString(),
  });
  const summary: RefreshArrivalSummary = { refreshId, recorded, started: [], skipped: [] };
  if (recorded === 'seen') {
    deps.logger.info('refresh already recorded; no runs started', { refreshId });
    return summary;
  }

  const refreshed = new Set(segmentIds);
  const exports = await deps.exports.list();
  for (const exp of exports) {
    if (!exp.scheduled || exp.connectionId === null) continue;
    if (!exp.segmentIds.some((id) => refreshed.has(id))) continue;
    await startScheduledExport(
      deps,
      { ...exp, connectionId: exp.connectionId },
      { requestedBy: REQUESTED_BY, refreshId },
      summary,
    );
  }
  deps.logger.info('refresh arrived', {
    refreshId,
    started: summary.started.length,
    skipped: summary.skipped.length,
  });
  return summary;
};
