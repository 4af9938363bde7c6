import { isTerminal } from '#lib/domain/run.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Runs } from '#lib/ports/runs.ts';

/** Why a sender stopped sending a batch before its end. */
export class StopDelivery extends Error {
  override readonly name = 'StopDelivery';
  constructor(readonly why: 'cancelled' | 'connection_removed') {
    super(why === 'cancelled' ? 'The run was cancelled or has ended.' : 'The connection was removed.');
  }
}

export interface WatchSettings {
  /** Re-check after this many requests… */
  everyRequests: number;
  /** …or after this long, whichever comes first. */
  everyMs: number;
}

export const DEFAULT_WATCH: WatchSettings = { everyRequests: 5, everyMs: 2_000 };

/**
 * A check run before each request of a batch: every few requests (or seconds) it re-reads the run
 * and the connection, and throws StopDelivery once the run was cancelled or has ended, or the
 * connection was removed. A batch of 100 one-by-one requests takes 20 s at 5 requests/s; without
 * this, a cancel or a removal would only take effect at the next batch, and a removed connection's
 * cached key would go on being used.
 */
export const watchRun = (
  deps: { runs: Pick<Runs, 'get'>; connections: Pick<Connections, 'get'>; clock: Clock },
  ids: { runId: string; connectionId: string },
  settings: WatchSettings = DEFAULT_WATCH,
): (() => Promise<void>) => {
  let requests = 0;
  let checkedAt = deps.clock.now();
  return async () => {
    requests++;
    const now = deps.clock.now();
    if (requests % settings.everyRequests !== 0 && now - checkedAt < settings.everyMs) return;
    checkedAt = now;
    const run = await deps.runs.get(ids.runId);
    if (run === undefined || run.cancelRequested === true || isTerminal(run.status)) {
      throw new StopDelivery('cancelled');
    }
    if ((await deps.connections.get(ids.connectionId)) === undefined) {
      throw new StopDelivery('connection_removed');
    }
  };
};
