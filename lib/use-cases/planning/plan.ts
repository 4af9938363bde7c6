import { capExceeded, effectiveCap, type SegmentSize } from '#lib/domain/cap.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { type ContactCodec, jsonCodec, matchingCodec } from '#lib/domain/contact-codec.ts';
import { addRequests, capabilityAt } from '#lib/domain/costs.ts';
import { emptyDiffTotals, type SnapshotEntry } from '#lib/domain/diff.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import { SnapshotMap } from '#lib/domain/snapshot-map.ts';
import { stagedBatch } from '#lib/domain/staged-batch.ts';
import { SlotTooLateError } from '#lib/ports/rate-budget.ts';
import type { TextStash } from '#lib/ports/text-stash.ts';
import { RequestTally, ThrottledTooLongError } from '../destination-calls.ts';
import { endRun } from '../run-lifecycle.ts';
import { build, finishDryRun } from './build.ts';
import { checkpointPieces, type PlannerCheckpoint } from './checkpoint.ts';
import { collect, readSnapshot } from './collect.ts';
import type { Context } from './context.ts';
import { finishPlanning, stats } from './finish.ts';
import { dropHeld, holdRun } from './hold.ts';
import { AdoptionRequiredError, resolveRunLists } from './lists.ts';
import { countNotInSegments, namedContacts } from './named-contacts.ts';
import { reconcile } from './reconcile.ts';
import { runTags } from './tag-counts.ts';
import { targetsTaken } from './targets.ts';

/** Messages per queue call between progress notes (SQS takes 10 per call; the adapter splits). */
const SEND_CHUNK = 50;

/**
 * The planning phases of one invocation: collect (resumable page by page), then decide the plan
 * (lists, bulk-membership capability) and save it as the `emit` checkpoint before anything is queued,
 * then commit its batch count on the run and queue its batches. Returns `paused` when time ran
 * short (the caller queues a continuation).
 */
export const plan = async (
  ctx: Context,
  checkpoint: PlannerCheckpoint | undefined,
  texts?: TextStash,
): Promise<'done' | 'paused'> => {
  const { deps, run, exp, connection } = ctx;
  const snapshot = checkpoint ? asMap(checkpoint.snapshot) : await readSnapshot(ctx);
  const cap = effectiveCap(exp.cap, connection.cap);
  const collectorOptions = {
    segmentIds: run.segmentIds,
    cap,
    policy: exp.capPolicy,
    isKnown: (key: string) => snapshot.has(key),
    ...(snapshot instanceof SnapshotMap ? { sharedKey: (key: string) => snapshot.keyOf(key) } : {}),
    codec: codecFor(ctx, checkpoint),
    ...(texts === undefined ? {} : { texts }),
  };
  const collector = checkpoint
    ? ContactCollector.fromState(collectorOptions, checkpoint.collector)
    : new ContactCollector(collectorOptions);
  const state: PlannerCheckpoint = checkpoint ?? {
    v: 2,
    phase: 'collect',
    segmentIndex: 0,
    collector: collector.toState(),
    codec: collectorOptions.codec.id,
    snapshot: [],
    emitted: 0,
    requests: {},
  };
  const save = async (): Promise<void> => {
    await deps.checkpoints.save(
      run.id,
      checkpointPieces({ ...state, collector: collector.liveState(), snapshot }),
    );
    await deps.plans.note(run.id, { at: now(ctx), checkpointed: true });
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
      await deps.plans.saveStats(run.id, {
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
    const named = namedContacts(run);
    if (named !== undefined) countNotInSegments(collector, snapshot, named);
    // Lists first: what the snapshot remembers for a list that changed must not count.
    if (exp.membership === 'list' && run.trigger !== 'dry-run') {
      const tally = new RequestTally();
      try {
        state.listIds = await resolveRunLists(ctx, snapshot, tally);
      } catch (error) {
        if (error instanceof AdoptionRequiredError) {
          await deps.batches.addRequests(run.id, tally.requests, tally.throttled);
          await endRun(deps, run, 'failed', error.message);
          return 'done';
        }
        if (!(error instanceof SlotTooLateError || error instanceof ThrottledTooLongError)) throw error;
        // Out of time waiting for the rate budget: the next invocation resolves the lists again.
        await deps.batches.addRequests(run.id, tally.requests, tally.throttled);
        await save();
        return 'paused';
      }
      addRequests(state.requests, tally.requests);
      await deps.batches.addRequests(run.id, tally.requests, tally.throttled);
    }
    // Tag mode has no list registry: the segment tags are its lists.
    if (exp.membership === 'tag' && run.trigger !== 'dry-run') state.listIds ??= runTags(ctx);
    // A repair run first corrects the snapshot to what its lists really hold, and a tag-mode run
    // whose tag counts disagree with the snapshot does so for those tags (reconcile.ts).
    const repaired = await reconcile(ctx, collector, snapshot, state);
    if (repaired !== 'done') return repaired === 'paused' ? save().then(() => 'paused') : 'done';
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
  const committed = await deps.plans.commit(run.id, {
    batchesTotal: built.batchesTotal,
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
  // Held removals are queued only once approved; until then (or once rejected) queueing stops before them.
  const decision = run.hold?.decision?.outcome;
  const queueUntil =
    built.hold === undefined || decision === 'approved' ? built.batchesTotal : built.hold.firstBatch;
  let queued = Math.max(state.emitted, run.batchesQueued ?? 0);
  // Each chunk is built as it is queued: the plan's messages are never all in memory at once.
  const messages = queued < queueUntil ? built.messages(queued) : undefined;
  while (messages !== undefined && queued < queueUntil) {
    const chunk: SendBatchMessageInput[] = [];
    while (chunk.length < Math.min(SEND_CHUNK, queueUntil - queued)) {
      const next = messages.next();
      if (next.done)
        throw new Error(`The plan rebuilt ${queued + chunk.length} of its ${built.batchesTotal} batches`);
      chunk.push(next.value);
    }
    // What the batches will change is on record before any of them can be sent (snapshot-view.ts).
    await deps.snapshots.stage(
      exp.id,
      run.id,
      chunk.map((m) => stagedBatch(m, run.segmentIds)),
    );
    await deps.sendQueue.send(chunk);
    queued += chunk.length;
    await deps.plans.note(run.id, { at: now(ctx), batchesQueued: queued });
    if (queued < queueUntil && ctx.remainingMs() < deps.settings.reserveMs) return 'paused';
  }
  if (built.hold !== undefined && decision === undefined) {
    await holdRun(ctx, collector, { ...built, hold: built.hold }, state.listIds);
    return 'done';
  }
  if (built.hold !== undefined && decision === 'rejected') {
    if (!(await dropHeld(ctx, built, built.hold.firstBatch))) return 'paused';
  }
  await finishPlanning(ctx, collector, built.totals, built.requests, built.floor, state.listIds);
  return 'done';
};

const asMap = (entries: Iterable<[string, SnapshotEntry]>): Map<string, SnapshotEntry> =>
  entries instanceof Map ? entries : new Map(entries);

/**
 * The codec the collector keeps contacts with: the run's data matching's, or, resuming, the one its
 * checkpoint was written with (an older checkpoint's JSON). A checkpoint from another matching cannot
 * be read: that would be a run whose frozen configuration changed.
 */
const codecFor = (ctx: Context, checkpoint: PlannerCheckpoint | undefined): ContactCodec => {
  const codec = matchingCodec(ctx.exp.dataMatching);
  if (checkpoint?.codec === undefined || checkpoint.codec === codec.id) return codec;
  if (checkpoint.codec === jsonCodec.id) return jsonCodec;
  throw new Error('The planning checkpoint was written for another data matching; start the run again.');
};

const now = (ctx: Context): string => new Date(ctx.deps.clock.now()).toISOString();
