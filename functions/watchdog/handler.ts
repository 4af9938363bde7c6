import { lambdaHandler } from '#functions/shared/observability.ts';
import { endStalledRuns, type WatchdogSummary } from '#lib/use-cases/end-stalled-runs.ts';
import type { WatchdogDeps } from './deps.ts';

/** Invoked by its schedule every few minutes: ends runs that stopped moving. */
export const createWatchdogHandler = (deps: WatchdogDeps) =>
  lambdaHandler(
    deps.observability,
    async (_event: unknown): Promise<WatchdogSummary> => endStalledRuns(deps.lifecycle, deps.settings),
  );
