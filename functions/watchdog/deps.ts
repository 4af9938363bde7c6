import type { WatchdogEnv } from '#functions/shared/env.ts';
import { type Observability, observability } from '#functions/shared/observability.ts';
import { commonParts, type Overrides } from '#functions/shared/wiring.ts';
import type { WatchdogSettings } from '#lib/use-cases/end-stalled-runs.ts';
import type { LifecycleDeps } from '#lib/use-cases/run-lifecycle.ts';

export interface WatchdogDeps {
  lifecycle: LifecycleDeps;
  settings: WatchdogSettings;
  observability: Observability;
}

export const createWatchdogDeps = (env: WatchdogEnv, overrides: Overrides = {}): WatchdogDeps => {
  const common = commonParts(env, overrides);
  return {
    lifecycle: {
      ...common.state,
      notifier: common.notifier,
      clock: common.clock,
      logger: common.logger,
      metrics: common.metrics,
    },
    settings: { stallAfterMs: env.STALL_AFTER_MINUTES * 60_000 },
    observability: observability(common.logger, common.metrics),
  };
};
