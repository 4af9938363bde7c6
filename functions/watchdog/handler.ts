import { endStalledRuns, type WatchdogSummary } from '#lib/use-cases/end-stalled-runs.ts';
import type { WatchdogDeps } from './deps.ts';

/** Invoked by its schedule every few minutes: ends runs that stopped moving. */
export const createWatchdogHandler = (deps: WatchdogDeps) => async (): Promise<WatchdogSummary> => {
  try {
    return await endStalledRuns(deps.lifecycle, deps.settings);
  } finally {
    deps.flushMetrics();
  }
};
