import { nextHealth } from '#lib/domain/export-health.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Notifier } from '#lib/ports/notifier.ts';

export interface HealthDeps {
  exports: Pick<Exports, 'get' | 'setHealth'>;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
}

/** Each lost race means another run's end was recorded in between; a handful always settles it. */
const ATTEMPTS = 5;

/**
 * Records what an ended (or held) run says about its export's health and, only when the state
 * changed, tells people once (docs/architecture.md#notifications). The write is conditional on the
 * health the decision was made from: of two runs ending at once, one wins, and the other decides
 * again from the winner's health (so the same news is never sent twice).
 */
export const recordRunHealth = async (deps: HealthDeps, run: RunRecord): Promise<void> => {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const exp = await deps.exports.get(run.exportId);
    if (exp === undefined) return;
    const next = nextHealth(exp.health, run, new Date(deps.clock.now()).toISOString());
    if (next === undefined) return;
    if (!(await deps.exports.setHealth(exp.id, next.health, exp.health?.seq))) continue;
    if (next.change === undefined) return;
    deps.logger.info('export health changed', {
      exportId: exp.id,
      runId: run.id,
      from: next.change.from,
      to: next.change.to,
    });
    const webhookUrl = exp.notifications?.webhookUrl;
    await deps.notifier.healthChanged({
      exportId: exp.id,
      exportName: exp.name,
      ...next.change,
      run,
      ...(webhookUrl === undefined ? {} : { webhookUrl }),
    });
    return;
  }
  deps.logger.warn('export health not recorded: it kept changing', { exportId: run.exportId, runId: run.id });
};
