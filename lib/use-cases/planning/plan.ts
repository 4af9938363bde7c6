import { capExceeded, effectiveCap, type SegmentSize } from '#lib/domain/cap.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { type DiffTotals, emptyDiffTotals, type SnapshotEntry } from '#lib/domain/diff.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import { describeTarget, membershipTargets } from '#lib/domain/membership-targets.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import {
  addRequests,
  type BulkMembership,
  capabilityAt,
  type PlannedBatch,
  requestsFor,
} from '#lib/domain/plan.ts';
import { SlotTooLateError } from '#lib/ports/rate-budget.ts';
import { RequestTally, ThrottledTooLongError } from '../destination-calls.ts';
import { endRun } from '../run-lifecycle.ts';
import { type PlannerCheckpoint, serialiseCheckpoint } from './checkpoint.ts';
import { collect, readSnapshot } from './collect.ts';
import type { Context } from './context.ts';
import { batchPlanner, decideAll } from './decide.ts';
import { toMessages } from './emit.ts';
import { finishPlanning, stats } from './finish.ts';
import { AdoptionRequiredError, knownLists, resolveRunLists } from './lists.ts';

/** Messages per queue call between progress notes (SQS takes 10 per call; the adapter splits). */
const SEND_CHUNK = 50;

interface BuiltPlan {
  messages: SendBatchMessageInput[];
  totals: DiffTotals;
  requests: Record<string, number>;
  floor: number;
  itemsPlanned: number;
}

/**
 * The planning phases of one invocation: collect (resumable page by page), then decide the plan
 * (lists, bulk-membership capability) and save it as the `emit` checkpoint before anything is queued,
 * then commit its batch count on the run and queue its batches. Returns `paused` when time ran
 * short (the caller queues a continuation).
 */
export const plan = async (
  ctx: Context,
  checkpoint: PlannerCheckpoint | undefined,
): Promise<'done' | 'paused'> => {
  const { deps, run, exp, connection } = ctx;
  const snapshot = checkpoint ? new Map(checkpoint.snapshot) : await readSnapshot(ctx);
  const cap = effectiveCap(exp.cap, connection.cap);
  const collectorOptions = {
    segmentIds: run.segmentIds,
    cap,
    policy: exp.capPolicy,
    isKnown: (key: string) => snapshot.has(key),
  };
  const collector = checkpoint
    ? ContactCollector.fromState(collectorOptions, checkpoint.collector)
    : new ContactCollector(collectorOptions);
  const state: PlannerCheckpoint = checkpoint ?? {
    v: 1,
    phase: 'collect',
    segmentIndex: 0,
    collector: collector.toState(),
    snapshot: [],
    emitted: 0,
    requests: {},
  };
  const save = async (): Promise<void> => {
    await deps.store.saveCheckpoint(
      run.id,
      serialiseCheckpoint({ ...state, collector: collector.toState(), snapshot: [...snapshot] }),
    );
    await deps.store.notePlanning(run.id, { at: now(ctx), checkpointed: true });
    deps.logger.info('planning checkpointed', {
      runId: run.id,
      exportId: exp.id,
      phase: state.phase,
      segmentIndex: state.segmentIndex,
    });
  };

  if (checkpoint === undefined && (await targetsTaken(ctx))) return 'done';
  if (state.phase === 'collect') {
    const done = await collect(ctx, collector, state);
    if (done === 'cap') {
      const sizes: SegmentSize[] = ctx.segments.map((s) => ({
        id: s.id,
        name: s.name,
        profiles: s.profiles,
      }));
      await deps.store.savePlanning(run.id, {
        planning: stats(ctx, collector, emptyDiffTotals(sizes.length)),
      });
      await endRun(deps, run, 'failed', capExceeded(collector.contacts.size + 1, cap, sizes).message);
      return 'done';
    }
    if (done === 'cancelled') return 'done';
    if (done === 'paused') {
      await save();
      return 'paused';
    }
    // Lists first: what the snapshot remembers for a list that changed must not count.
    if (exp.membership === 'list' && run.trigger !== 'dry-run') {
      const tally = new RequestTally();
      try {
        state.listIds = await resolveRunLists(ctx, snapshot, tally);
      } catch (error) {
        if (error instanceof AdoptionRequiredError) {
          await deps.store.addRequests(run.id, tally.requests, tally.throttled);
          await endRun(deps, run, 'failed', error.message);
          return 'done';
        }
        if (!(error instanceof SlotTooLateError || error instanceof ThrottledTooLongError)) throw error;
        // Out of time waiting for the rate budget: the next invocation resolves the lists again.
        await deps.store.addRequests(run.id, tally.requests, tally.throttled);
        await save();
        return 'paused';
      }
      addRequests(state.requests, tally.requests);
      await deps.store.addRequests(run.id, tally.requests, tally.throttled);
    }
    state.capability = capabilityAt(
      connection.bulkMembership,
      deps.clock.now(),
      deps.settings.probeRecheckMs,
    );
    state.phase = 'emit';
    if (run.trigger === 'dry-run') return finishDryRun(ctx, collector, snapshot, state);
    // The decided plan is durable before its first batch is queued.
    await save();
  }

  const built = build(ctx, collector, snapshot, state);
  const committed = await deps.store.commitPlan(run.id, {
    batchesTotal: built.messages.length,
    itemsPlanned: built.itemsPlanned,
    at: now(ctx),
  });
  if (!committed) {
    // Cannot happen while the plan is rebuilt from its own checkpoint; never queue a second plan.
    await endRun(
      deps,
      run,
      'failed',
      'Internal error: this run was planned twice differently; start it again.',
    );
    return 'done';
  }
  let queued = Math.max(state.emitted, run.batchesQueued ?? 0);
  while (queued < built.messages.length) {
    const chunk = built.messages.slice(queued, queued + SEND_CHUNK);
    await deps.sendQueue.send(chunk);
    queued += chunk.length;
    await deps.store.notePlanning(run.id, { at: now(ctx), batchesQueued: queued });
    if (queued < built.messages.length && ctx.remainingMs() < deps.settings.reserveMs) return 'paused';
  }
  await finishPlanning(ctx, collector, built.totals, built.requests, built.floor, state.listIds);
  return 'done';
};

/**
 * Each list or membership field belongs to one export per connection. A run reserves its targets
 * (a dry run only looks) and fails, before reading anything, when another export holds one: two
 * exports writing one list would remove each other's contacts.
 */
const targetsTaken = async (ctx: Context): Promise<boolean> => {
  const { deps, run, exp, connection } = ctx;
  const targets = membershipTargets(exp, ctx.segments);
  const conflicts =
    run.trigger === 'dry-run'
      ? (await deps.store.targetOwners(connection.id, targets)).flatMap((owner, i) => {
          const t = targets[i];
          return owner !== undefined && owner !== exp.id && t !== undefined ? [{ ...t, owner }] : [];
        })
      : await deps.store.claimTargets(connection.id, exp.id, targets);
  if (conflicts.length === 0) return false;
  const names = conflicts.map((c) => `${describeTarget(c)} (used by export ${c.owner})`).join(', ');
  await endRun(
    deps,
    run,
    'failed',
    `This export shares ${names} with another export on the same connection; each list or membership field ` +
      'belongs to one export. Give the segment another list title or membership field.',
  );
  return true;
};

const now = (ctx: Context): string => new Date(ctx.deps.clock.now()).toISOString();

/** The decided plan's batches, rebuilt deterministically from the checkpoint's state. */
const build = (
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

const finishDryRun = async (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  state: PlannerCheckpoint,
): Promise<'done'> => {
  const { deps, exp, connection } = ctx;
  const built = build(ctx, collector, snapshot, state, false);
  if (exp.membership === 'list') {
    const titles = ctx.segments.map((s) => listTitle(exp, s));
    const lists = await knownLists(deps.store, connection.id, titles);
    addRequests(
      built.requests,
      lists.toCreate > 0 ? { listLists: 1, createList: lists.toCreate } : { listLists: 1 },
    );
  }
  await finishPlanning(ctx, collector, built.totals, built.requests, built.floor);
  return 'done';
};
