import type { ContactCollector } from '#lib/domain/collector.ts';
import { addRequests, type BulkMembership, capabilityAt } from '#lib/domain/costs.ts';
import type { DiffTotals, SnapshotEntry } from '#lib/domain/diff.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import { type PlannedBatch, requestsFor } from '#lib/domain/plan.ts';
import type { PlannerCheckpoint } from './checkpoint.ts';
import type { Context } from './context.ts';
import { batchPlanner, decideAll } from './decide.ts';
import { toMessages } from './emit.ts';
import { finishPlanning } from './finish.ts';
import { knownLists } from './lists.ts';

export interface BuiltPlan {
  messages: SendBatchMessageInput[];
  totals: DiffTotals;
  requests: Record<string, number>;
  floor: number;
  itemsPlanned: number;
}

/** The decided plan's batches, rebuilt deterministically from the checkpoint's state. */
export const build = (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  state: PlannerCheckpoint,
  withMessages = true,
): BuiltPlan => {
  const { deps, run, exp, connection } = ctx;
  const capability: BulkMembership =
    state.capability ??
    capabilityAt(connection.bulkMembership, deps.clock.now(), deps.settings.probeRecheckMs);
  const batches: PlannedBatch[] = [];
  const planner = batchPlanner(ctx, capability, (b) => batches.push(b));
  // Each decision goes straight to the batch planner: no array of every contact's decision.
  const totals = decideAll(collector, snapshot, run.segmentIds.length, (input) => planner.add(input));
  planner.finish();
  const requests: Record<string, number> = { ...state.requests };
  let itemsPlanned = 0;
  for (const b of batches) {
    addRequests(requests, requestsFor(b, deps.destination.costs, capability));
    itemsPlanned += b.items.length;
  }
  if (capability !== 'unsupported' && batches.some((b) => b.op === 'list-join')) {
    // The run's first join batch confirms bulk membership: two membership checks (before and after),
    // and when the answer is not known yet, one bulk upsert on top of the one-by-one price.
    addRequests(
      requests,
      capability === 'unknown' ? { bulkUpsertWithList: 1, membershipCheck: 2 } : { membershipCheck: 2 },
    );
  }
  const address = {
    runId: run.id,
    exportId: exp.id,
    connectionId: connection.id,
    ...(state.listIds ? { listIds: state.listIds } : {}),
  };
  const messages: SendBatchMessageInput[] = [];
  if (withMessages)
    for (const batch of batches) messages.push(...toMessages(batch, address, messages.length));
  return { messages, totals, requests, floor: planner.floor, itemsPlanned };
};

/** A dry run ends here: its plan is priced and reported, never queued. */
export const finishDryRun = async (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  state: PlannerCheckpoint,
): Promise<'done'> => {
  const { deps, exp, connection } = ctx;
  const built = build(ctx, collector, snapshot, state, false);
  if (exp.membership === 'list') {
    const titles = ctx.segments.map((s) => listTitle(exp, s));
    const lists = await knownLists(deps.lists, connection.id, titles);
    addRequests(
      built.requests,
      lists.toCreate > 0 ? { listLists: 1, createList: lists.toCreate } : { listLists: 1 },
    );
  }
  await finishPlanning(ctx, collector, built.totals, built.requests, built.floor);
  return 'done';
};
