import type { RefreshReader } from '#lib/ports/refresh-reader.ts';
import type { RefreshEntry, Refreshes, RefreshStatus } from '#lib/ports/refreshes.ts';
import { type FollowUpDeps, type FollowUpSummary, followUpRefresh } from './refresh-follow-up.ts';
import { inspectRefresh } from './refresh-inspection.ts';

export interface RefreshArrivalDeps extends FollowUpDeps {
  refreshes: Pick<Refreshes, 'get' | 'record' | 'lease' | 'settle'>;
  reader: RefreshReader;
}

/** One arrival of a refresh's manifest (an S3 event, perhaps delivered again). */
export interface Arrival {
  refreshId: string;
  /** Stable across retries of one event (its id), so a retried arrival takes back its own lease. */
  holder: string;
  /** The invocation's deadline (epoch ms): its hold on the follow-up ends then, whatever happened. */
  deadline: number;
}

export interface RefreshArrivalSummary extends FollowUpSummary {
  refreshId: string;
  outcome: RefreshStatus['outcome'];
  /** `new`: this arrival recorded the refresh; `seen`: it had arrived before. */
  recorded: 'new' | 'seen';
  /**
   * `done`: this arrival started the runs (or notified the rejection); `resumed`: it finished what an
   * interrupted earlier arrival left; `none`: it was done before, or another arrival is doing it.
   */
  followUp: 'done' | 'resumed' | 'none';
  reasons?: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

const statusOf = (entry: RefreshEntry): RefreshStatus =>
  entry.outcome === 'complete'
    ? {
        refreshId: entry.refreshId,
        outcome: 'complete',
        createdAt: entry.createdAt,
        arrivedAt: entry.arrivedAt,
        segmentIds: entry.segments.map((s) => s.id),
      }
    : { ...entry, segmentIds: [] };

/**
 * A drop is a refresh (docs/architecture.md#refresh-arrival). The first arrival of a refresh id
 * verifies it and reads its segments' facts once, and records it, complete or rejected with its
 * reasons; later arrivals of the id read nothing. The follow-up (a complete refresh starts every
 * scheduled export using any of its segments; a rejected one is notified) is done by one arrival at
 * a time under a lease, and marked done afterwards: an arrival that finds it recorded but not marked
 * (the one before crashed) resumes it, starting only the exports that have no run of this refresh.
 */
export const refreshArrived = async (
  deps: RefreshArrivalDeps,
  arrival: Arrival,
): Promise<RefreshArrivalSummary> => {
  const { refreshId } = arrival;
  const now = (): string => iso(deps.clock.now());
  let status = await deps.refreshes.get(refreshId);
  let recorded: 'new' | 'seen' = 'seen';
  if (status === undefined) {
    const entry = await inspectRefresh(deps.reader, refreshId, now());
    recorded = await deps.refreshes.record(entry);
    // Another arrival recorded it meanwhile: its record stands, whatever this one found.
    status = recorded === 'new' ? statusOf(entry) : await deps.refreshes.get(refreshId);
    if (status === undefined) throw new Error(`Refresh ${refreshId} was recorded but cannot be read back`);
  }
  const summary: RefreshArrivalSummary = {
    refreshId,
    outcome: status.outcome,
    recorded,
    followUp: 'none',
    ...(status.reasons ? { reasons: status.reasons } : {}),
    started: [],
    skipped: [],
    alreadyStarted: [],
  };
  const log = deps.logger.child({ refreshId });
  if (status.settledAt !== undefined) {
    log.info('refresh already recorded and followed up; nothing to do', { outcome: status.outcome });
    return summary;
  }
  if (!(await deps.refreshes.lease(refreshId, arrival.holder, now(), iso(arrival.deadline)))) {
    log.info('another arrival of this refresh is following it up; nothing to do', {
      outcome: status.outcome,
    });
    return summary;
  }
  const resuming = recorded === 'seen';
  if (status.outcome === 'rejected') log.warn('refresh rejected', { reasons: status.reasons });
  const done = await followUpRefresh(deps, status, resuming);
  await deps.refreshes.settle(refreshId, now());
  Object.assign(summary, done, { followUp: resuming ? 'resumed' : 'done' });
  log.info('refresh arrived', {
    outcome: status.outcome,
    followUp: summary.followUp,
    started: done.started.length,
    skipped: done.skipped.length,
    alreadyStarted: done.alreadyStarted.length,
  });
  return summary;
};
