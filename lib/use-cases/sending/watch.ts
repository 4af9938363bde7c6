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

/**
 * At Autopilot's 5 requests/s, one check (two reads) every 5 s: ~0.06 reads per request, where every
 * 5 requests or 2 s read ~0.4, a visible share of a list-mode run's cost (counted on the local runtime
 * at 5/s: 287 list-mode requests, 8 checks instead of 54). A faster budget checks every 25 requests.
 */
export const DEFAULT_WATCH: WatchSettings = { everyRequests: 25, everyMs: 5_000 };

/**
 * A check run before each request of a batch: every few requests or seconds (DEFAULT_WATCH) it
 * re-reads the run and the connection, and throws StopDelivery once the run was cancelled or has
 * ended, or the connection was removed. A batch is also checked when it starts (send-batch.ts), but
 * a delivery of one-by-one requests lasts a while (25 per-contact requests take 5 s at 5 requests/s,
 * longer while other batches share the budget); without this, a cancel or a removal would only take
 * effect at the next batch, and a removed connection's cached key would go on being used.
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
