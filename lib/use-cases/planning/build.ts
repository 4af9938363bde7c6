import type { ContactCollector } from '#lib/domain/collector.ts';
import { addRequests, type BulkMembership, capabilityAt } from '#lib/domain/costs.ts';
import type { DiffTotals, SnapshotEntry } from '#lib/domain/diff.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import { isRemovalBatch, type PlannedBatch, requestsFor } from '#lib/domain/plan.ts';
import type { HoldTarget } from '#lib/domain/removal-guardrail.ts';
import type { PlannerCheckpoint } from './checkpoint.ts';
import type { Context } from './context.ts';
import { batchPlanner, decideAll } from './decide.ts';
import { toMessages } from './emit.ts';
import { finishPlanning } from './finish.ts';
import { guardrailHold } from './guardrail.ts';
import { knownLists } from './lists.ts';
import { namedContacts } from './named-contacts.ts';

export interface BuiltPlan {
  messages: SendBatchMessageInput[];
  totals: DiffTotals;
  requests: Record<string, number>;
  floor: number;
  itemsPlanned: number;
  /**
   * Set when the removal guardrail holds this plan: its removal batches are the last messages,
   * from `firstBatch` on, and are queued only once an admin approves them.
   */
  hold?: { targets: HoldTarget[]; firstBatch: number; removals: number };
}

const planBatches = (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  capability: BulkMembership,
  separateLeaves: boolean,
) => {
  const batches: PlannedBatch[] = [];
  const planner = batchPlanner(ctx, capability, (b) => batches.push(b), separateLeaves);
  // Each decision goes straight to the batch planner: no array of every contact's decision.
  const totals = decideAll(
    collector,
    snapshot,
    ctx.run.segmentIds.length,
    (input) => planner.add(input),
    namedContacts(ctx.run),
  );
  planner.finish();
  return { batches, totals, floor: planner.floor };
};

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
  let planned = planBatches(ctx, collector, snapshot, capability, false);
  const targets = guardrailHold(ctx, snapshot, planned.totals);
  // Field mode mixes flag clears into every upsert: plan again with them apart, to hold them alone.
  if (targets !== undefined && exp.membership === 'field')
    planned = planBatches(ctx, collector, snapshot, capability, true);
  const { totals, floor } = planned;
  // Held removals go last, so the batches queued now are exactly those numbered before them.
  const batches =
    targets === undefined
      ? planned.batches
      : [
          ...planned.batches.filter((b) => !isRemovalBatch(b)),
          ...planned.batches.filter((b) => isRemovalBatch(b)),
        ];
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
  let firstBatch = 0;
  if (withMessages)
    for (const batch of batches) {
      messages.push(...toMessages(batch, address, messages.length));
      if (!isRemovalBatch(batch)) firstBatch = messages.length;
    }
  const removals = batches.filter(isRemovalBatch).reduce((n, b) => n + b.items.length, 0);
  const hold = targets === undefined ? undefined : { targets, firstBatch, removals };
  return { messages, totals, requests, floor, itemsPlanned, ...(hold ? { hold } : {}) };
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
