import { capExceeded, effectiveCap, type SegmentSize } from '#lib/domain/cap.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { emptyDiffTotals } from '#lib/domain/diff.ts';
import { FatalRunError } from '#lib/domain/errors.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import { MESSAGE_VERSION, type PlanMessage, type SendBatchMessageInput } from '#lib/domain/messages.ts';
import { addRequests, capabilityAt, type PlannedBatch, requestsFor } from '#lib/domain/plan.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { SegmentInfo } from '#lib/ports/segment-source.ts';
import { RequestTally } from './destination-calls.ts';
import { type PlannerCheckpoint, parseCheckpoint, serialiseCheckpoint } from './planning/checkpoint.ts';
import { collect, readSnapshot } from './planning/collect.ts';
import type { Context, PlanRunDeps } from './planning/context.ts';
import { batchPlanner, decideAll } from './planning/decide.ts';
import { toMessages } from './planning/emit.ts';
import { finishPlanning, stats } from './planning/finish.ts';
import { knownLists, resolveRunLists } from './planning/lists.ts';
import { endRun, fatalReason } from './run-lifecycle.ts';

export type { PlannerSettings, PlanRunDeps } from './planning/context.ts';

const SEND_CHUNK = 50;

/**
 * Plans one run (DESIGN.md §2 "Planning"): reads every segment page by page, maps, validates and
 * merges profiles, enforces the cap before anything is sent, diffs against the snapshot, resolves
 * lists and queues batches. Checkpoints and re-queues itself when time runs short, so no segment
 * size reaches the Lambda time limit.
 */
export const planRun = async (
  deps: PlanRunDeps,
  message: PlanMessage,
  remainingMs: () => number,
): Promise<void> => {
  const run = await deps.store.getRun(message.runId);
  if (run === undefined || isTerminal(run.status)) return;
  const log = deps.logger.child({ runId: run.id, exportId: run.exportId });
  if (run.cancelRequested) {
    await endRun(deps, run, 'cancelled', 'Cancelled before planning finished.');
    return;
  }
  const exp = await deps.store.getExport(run.exportId);
  if (exp === undefined) {
    await endRun(deps, run, 'failed', 'The export was deleted before its run could be planned.');
    return;
  }
  const connection = await deps.store.getConnection(run.connectionId);
  if (connection === undefined || exp.connectionId !== run.connectionId) {
    await endRun(deps, run, 'cancelled', 'The export lost its connection before the run could be planned.');
    return;
  }
  const segments: SegmentInfo[] = [];
  for (const id of run.segmentIds) {
    const info = await deps.segments.getSegment(id);
    if (info === undefined) {
      await endRun(deps, run, 'failed', `Segment ${id} no longer exists.`);
      return;
    }
    segments.push(info);
  }
  const ctx: Context = { deps, run, exp, connection, segments, remainingMs };
  try {
    await plan(ctx, message.resume ? await loadCheckpoint(ctx) : undefined);
  } catch (error) {
    if (error instanceof FatalRunError) {
      if (error.reason === 'invalid_api_key')
        await deps.store.setConnectionStatus(connection.id, 'invalid_key');
      await endRun(deps, run, 'failed', fatalReason(error));
      return;
    }
    log.error('planning failed; the message will be retried', { error: String(error) });
    throw error;
  }
};

const loadCheckpoint = async (ctx: Context): Promise<PlannerCheckpoint | undefined> => {
  const text = await ctx.deps.store.loadCheckpoint(ctx.run.id);
  return text === undefined ? undefined : parseCheckpoint(text);
};

const plan = async (ctx: Context, checkpoint: PlannerCheckpoint | undefined): Promise<void> => {
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
    await deps.planQueue.send([
      { v: MESSAGE_VERSION, type: 'plan', runId: run.id, exportId: exp.id, resume: true },
    ]);
    deps.logger.info('planning checkpointed; continuing in a new invocation', {
      runId: run.id,
      phase: state.phase,
      segmentIndex: state.segmentIndex,
      emitted: state.emitted,
    });
  };

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
      return;
    }
    if (done === 'paused' || done === 'cancelled') {
      if (done === 'paused') await save();
      return;
    }
    state.phase = 'emit';
  }

  // Lists first: what the snapshot remembers for a list that changed must not count.
  if (exp.membership === 'list' && run.trigger !== 'dry-run' && state.listIds === undefined) {
    const tally = new RequestTally();
    state.listIds = await resolveRunLists(ctx, snapshot, tally);
    addRequests(state.requests, tally.requests);
    await deps.store.addRequests(run.id, tally.requests, tally.throttled);
  }

  const capability = capabilityAt(connection.bulkMembership, deps.clock.now(), deps.settings.probeRecheckMs);
  const batches: PlannedBatch[] = [];
  const planner = batchPlanner(ctx, capability, (b) => batches.push(b));
  // Each decision goes straight to the batch planner: no array of every contact's decision.
  const totals = decideAll(collector, snapshot, run.segmentIds.length, (input) => planner.add(input));
  planner.finish();
  const requests: Record<string, number> = { ...state.requests };
  for (const b of batches) addRequests(requests, requestsFor(b, deps.destination.costs, capability));
  if (capability === 'unknown' && batches.some((b) => b.op === 'list-join')) {
    // The first join batch probes bulk membership: one bulk upsert and one membership check on top.
    addRequests(requests, { bulkUpsertWithList: 1, membershipCheck: 1 });
  }

  if (run.trigger === 'dry-run') {
    const titles = ctx.segments.map((s) => listTitle(exp, s));
    if (exp.membership === 'list') {
      const lists = await knownLists(deps.store, connection.id, titles);
      if (lists.toCreate > 0) addRequests(requests, { listLists: 1, createList: lists.toCreate });
      else addRequests(requests, { listLists: 1 });
    }
    await finishPlanning(ctx, collector, totals, requests, planner.floor, 0);
    return;
  }

  const address = {
    runId: run.id,
    exportId: exp.id,
    connectionId: connection.id,
    ...(state.listIds ? { listIds: state.listIds } : {}),
  };
  const messages: SendBatchMessageInput[] = [];
  for (const batch of batches) messages.push(...toMessages(batch, address, messages.length));
  while (state.emitted < messages.length) {
    const chunk = messages.slice(state.emitted, state.emitted + SEND_CHUNK);
    await deps.sendQueue.send(chunk);
    state.emitted += chunk.length;
    if (state.emitted < messages.length && ctx.remainingMs() < deps.settings.reserveMs) {
      await save();
      return;
    }
  }
  await finishPlanning(ctx, collector, totals, requests, planner.floor, messages.length, state.listIds);
};
