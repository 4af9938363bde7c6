import type { ContactCollector } from '#lib/domain/collector.ts';
import { addRequests, type BulkMembership, capabilityAt } from '#lib/domain/costs.ts';
import type { DiffTotals, SnapshotEntry } from '#lib/domain/diff.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import { isRemovalBatch, type PlannedBatch, requestsFor } from '#lib/domain/plan.ts';
import type { HoldTarget } from '#lib/domain/removal-guardrail.ts';
import type { PlannerCheckpoint } from './checkpoint.ts';
import type { Context } from './context.ts';
import { type BatchAddress, toMessages } from './emit.ts';
import { finishPlanning } from './finish.ts';
import { guardrailHold } from './guardrail.ts';
import { sendLanes } from './lanes.ts';
import { knownLists } from './lists.ts';
import { iterate, type Pass, passMessages, plannedBatches } from './passes.ts';

export interface BuiltPlan {
  /** Messages in the plan (what `plans.commit` records before any is queued). */
  batchesTotal: number;
  /**
   * The plan's messages in batch-number order from `from` on, built as they are taken: the plan is
   * decided again (deterministically, from the same collector and frozen snapshot) rather than
   * kept, so only the messages being queued are ever in memory.
   */
  messages: (from: number) => Generator<SendBatchMessageInput>;
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

interface Figures {
  totals: DiffTotals;
  floor: number;
  requests: Record<string, number>;
  itemsPlanned: number;
  joins: boolean;
  /** Items of removal batches (what a hold holds). */
  removals: number;
  /** Messages, numbered in planning order (the plan's numbering when nothing is held). */
  messages: number;
}

/** One pass to its end: what it plans, priced and sized; every batch dropped once counted. */
const figuresOf = (pass: Pass, address: BatchAddress | undefined): Figures => {
  const { costs } = pass.ctx.destination;
  const f = { requests: {}, itemsPlanned: 0, joins: false, removals: 0, messages: 0 };
  const it = plannedBatches(pass);
  for (let index = 0; ; index++) {
    const step = it.next();
    if (step.done) return { ...step.value, ...f };
    const batch = step.value;
    addRequests(f.requests, requestsFor(batch, costs, pass.capability));
    f.itemsPlanned += batch.items.length;
    if (batch.op === 'list-join') f.joins = true;
    if (isRemovalBatch(batch)) f.removals += batch.items.length;
    if (address === undefined) continue;
    const count = toMessages(batch, address, f.messages).length;
    pass.splits[index] = count;
    f.messages += count;
  }
};

/** Messages of the batches `which` picks, numbered from `start` (a pass that keeps none of them). */
const countMessages = (
  pass: Pass,
  address: BatchAddress,
  which: (batch: PlannedBatch) => boolean,
  start: number,
): number => {
  let batchNo = start;
  let index = 0;
  for (const batch of iterate(plannedBatches(pass))) {
    if (which(batch)) {
      const count = toMessages(batch, address, batchNo).length;
      pass.splits[index] = count;
      batchNo += count;
    }
    index++;
  }
  return batchNo - start;
};

/**
 * The decided plan's figures and message count, rebuilt deterministically from the checkpoint's
 * state; its messages are built when taken (`messages`).
 */
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
  const address = {
    runId: run.id,
    exportId: exp.id,
    connectionId: connection.id,
    ...(state.listIds ? { listIds: state.listIds } : {}),
    lanes: sendLanes(ctx.destination.costs, capability, connection.ratePerSecond),
  };
  const pass: Pass = { ctx, collector, snapshot, capability, separateLeaves: false, splits: [] };
  let figures = figuresOf(pass, withMessages ? address : undefined);
  const targets = guardrailHold(ctx, snapshot, figures.totals);
  // Field and tag mode mix membership clears into every upsert: plan again with them apart, to hold them alone.
  if (targets !== undefined && exp.membership !== 'list') {
    pass.separateLeaves = true;
    figures = figuresOf(pass, undefined);
  }
  const requests: Record<string, number> = { ...state.requests };
  addRequests(requests, figures.requests);
  if (capability !== 'unsupported' && figures.joins) {
    // The run's first join batch confirms bulk membership: two membership checks (before and after),
    // and when the answer is not known yet, one bulk upsert on top of the one-by-one price.
    addRequests(
      requests,
      capability === 'unknown' ? { bulkUpsertWithList: 1, membershipCheck: 2 } : { membershipCheck: 2 },
    );
  }
  let batchesTotal = figures.messages;
  let hold: BuiltPlan['hold'];
  if (targets !== undefined) {
    // Held removals go last, so the batches queued now are exactly those numbered before them.
    pass.splits = [];
    const firstBatch = withMessages ? countMessages(pass, address, (b) => !isRemovalBatch(b), 0) : 0;
    batchesTotal = withMessages ? firstBatch + countMessages(pass, address, isRemovalBatch, firstBatch) : 0;
    hold = { targets, firstBatch, removals: figures.removals };
  }
  return {
    batchesTotal,
    messages: (from) => passMessages(pass, address, from, hold?.firstBatch),
    totals: figures.totals,
    requests,
    floor: figures.floor,
    itemsPlanned: figures.itemsPlanned,
    ...(hold ? { hold } : {}),
  };
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
