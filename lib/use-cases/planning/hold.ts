import type { ContactCollector } from '#lib/domain/collector.ts';
import type { RunHold } from '#lib/domain/removal-guardrail.ts';
import { buildEstimate } from '../estimate.ts';
import { recordRunHealth } from '../export-health.ts';
import type { BuiltPlan } from './build.ts';
import type { Context } from './context.ts';
import { stats } from './finish.ts';

/**
 * Holds the run: every batch before the held removals is queued already; the plan's figures are
 * saved for the run page, the run waits in `awaiting_approval`, and people are told. The planning
 * checkpoint is kept: it rebuilds the same held batches when an admin decides.
 */
export const holdRun = async (
  ctx: Context,
  collector: ContactCollector,
  built: BuiltPlan & { hold: NonNullable<BuiltPlan['hold']> },
  listIds: readonly string[] | undefined,
): Promise<void> => {
  const { deps, run, connection } = ctx;
  const at = new Date(deps.clock.now()).toISOString();
  await deps.plans.saveStats(run.id, {
    planning: stats(ctx, collector, built.totals, listIds),
    estimate: buildEstimate(
      built.requests,
      built.floor,
      {
        ratePerSecond: connection.ratePerSecond,
        documentedRatePerSecond: ctx.destination.costs.documentedRatePerSecond,
      },
      false,
    ),
  });
  const hold: RunHold = { ...built.hold, at };
  const won = await deps.runs.transition(run.id, ['planning'], 'awaiting_approval', {
    hold,
    lastProgressAt: at,
  });
  if (!won) return;
  deps.logger.warn('run held by the removal guardrail: an admin must approve or reject its removals', {
    runId: run.id,
    exportId: run.exportId,
    removals: hold.removals,
    targets: hold.targets.map((t) => ({ target: t.target, members: t.members, removals: t.removals })),
  });
  const held = await deps.runs.get(run.id);
  if (held === undefined) return;
  // The plan's numbers go out with every hold; the export's health turns `held` (and its channels,
  // the webhook included, hear of it) only when it was not held already.
  try {
    await deps.notifier.runHeld(held);
  } catch (error) {
    deps.logger.warn('could not send the hold notification', { runId: run.id, error: String(error) });
  }
  try {
    await recordRunHealth(deps, held);
  } catch (error) {
    deps.logger.warn('could not record the export health', { runId: run.id, error: String(error) });
  }
};

/**
 * Records every held batch as not sent (dropped) once an admin rejected them, so the run's counts
 * add up. Nothing reaches the snapshot: the next run sees those contacts as leavers again, and holds
 * again unless the segment recovered. Returns false when time ran short (the planner resumes).
 */
export const dropHeld = async (ctx: Context, built: BuiltPlan, firstBatch: number): Promise<boolean> => {
  const { deps, run } = ctx;
  for (const message of built.messages(firstBatch)) {
    const { batchNo } = message;
    const items = message.items.length;
    await deps.batches.record(
      run.id,
      batchNo,
      { from: 0, to: items, final: true },
      {
        at: new Date(deps.clock.now()).toISOString(),
        accepted: 0,
        failed: {},
        dropped: items,
        requests: {},
        throttled: 0,
        samples: [],
      },
    );
    if (ctx.remainingMs() < deps.settings.reserveMs && batchNo + 1 < built.batchesTotal) return false;
  }
  return true;
};
