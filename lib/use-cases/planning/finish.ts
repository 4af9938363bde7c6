import type { ContactCollector } from '#lib/domain/collector.ts';
import type { emptyDiffTotals } from '#lib/domain/diff.ts';
import type { PlanningStats } from '#lib/domain/run-record.ts';
import { buildEstimate } from '../estimate.ts';
import { completeDryRun, finaliseIfComplete } from '../run-lifecycle.ts';
import type { Context } from './context.ts';

/** What planning found, as the run record keeps it. */
export const stats = (
  ctx: Context,
  collector: ContactCollector,
  totals: ReturnType<typeof emptyDiffTotals>,
  listIds?: readonly string[],
): PlanningStats => ({
  segments: ctx.segments.map((s, i) => ({
    id: s.id,
    name: s.name,
    profiles: collector.counts.profilesPerSegment[i] ?? s.profiles,
    ...(listIds?.[i] ? { listId: listIds[i] } : {}),
  })),
  profilesRead: collector.counts.profilesRead,
  distinct: collector.contacts.size,
  invalid: collector.counts.invalid,
  fieldIssues: collector.counts.fieldIssues,
  merged: collector.counts.merged,
  overCapProfiles: collector.counts.overCapProfiles,
  heldBack: collector.heldBack.size,
  added: totals.added,
  changed: totals.changed,
  unchanged: totals.unchanged,
  left: totals.left,
  joins: totals.joins,
  leaves: totals.leaves,
});

/** Records the plan and moves the run on: a dry run ends here, a real one starts sending. */
export const finishPlanning = async (
  ctx: Context,
  collector: ContactCollector,
  totals: ReturnType<typeof emptyDiffTotals>,
  requests: Record<string, number>,
  floor: number,
  listIds?: readonly string[],
): Promise<void> => {
  const { deps, run, connection } = ctx;
  const now = deps.clock.now();
  const planningFinishedAt = new Date(now).toISOString();
  await deps.plans.complete(run.id, {
    planning: stats(ctx, collector, totals, listIds),
    estimate: buildEstimate(
      requests,
      floor,
      {
        ratePerSecond: connection.ratePerSecond,
        documentedRatePerSecond: ctx.destination.costs.documentedRatePerSecond,
      },
      false,
    ),
    planningFinishedAt,
  });
  await deps.checkpoints.delete(run.id);
  if (run.trigger === 'dry-run') {
    await completeDryRun(deps, run);
    return;
  }
  await deps.runs.transition(run.id, ['planning'], 'sending');
  await finaliseIfComplete(deps, run.id);
};
