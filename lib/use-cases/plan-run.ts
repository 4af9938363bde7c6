import { capExceeded, effectiveCap, type SegmentSize } from '#lib/domain/cap.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { type DiffTotals, decide, emptyDiffTotals, type SnapshotEntry, tally } from '#lib/domain/diff.ts';
import { FatalRunError } from '#lib/domain/errors.ts';
import { listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import { canonicalContact, hashCanonical } from '#lib/domain/hash.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { MESSAGE_VERSION, type PlanMessage, type SendBatchMessageInput } from '#lib/domain/messages.ts';
import {
  addRequests,
  BatchPlanner,
  type BulkMembership,
  type PlanInput,
  type PlannedBatch,
  requestsFor,
} from '#lib/domain/plan.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { Destination } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';
import type { Connection, ExportRecord, PlanningStats, RunRecord } from '#lib/ports/state-store.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import { accessConnection, RequestTally } from './destination-calls.ts';
import { buildEstimate } from './estimate.ts';
import { type PlannerCheckpoint, parseCheckpoint, serialiseCheckpoint } from './planning/checkpoint.ts';
import { toMessages } from './planning/emit.ts';
import { knownLists, resolveLists } from './planning/lists.ts';
import { endRun, fatalReason, finaliseIfComplete, type LifecycleDeps } from './run-lifecycle.ts';

export interface PlannerSettings {
  /** Profiles read per segment-source page. */
  pageSize: number;
  /** Contacts per message when each costs one request. */
  perContactBatchSize: number;
  /** Stop and checkpoint when less than this much invocation time is left. */
  reserveMs: number;
  /** Re-probe bulk membership when the last answer is older than this. */
  probeRecheckMs: number;
  maxAttempts: number;
  baseDelayMs: number;
}

export interface PlanRunDeps extends LifecycleDeps {
  segments: SegmentSource;
  destination: Destination;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  sendQueue: WorkQueue<SendBatchMessageInput>;
  planQueue: WorkQueue<PlanMessage>;
  settings: PlannerSettings;
}

/** A contact's serialised form may not outgrow one queue message. */
const MAX_CONTACT_CHARS = 200_000;
const SEND_CHUNK = 50;

/** The capability the planner batches for: a stale answer is re-probed by the first bulk batch. */
export const planningCapability = (
  connection: Connection,
  now: number,
  recheckMs: number,
): BulkMembership => {
  const { state, checkedAt } = connection.bulkMembership;
  if (state === 'unknown') return 'unknown';
  if (checkedAt === undefined || now - Date.parse(checkedAt) > recheckMs) return 'unknown';
  return state;
};

interface Context {
  deps: PlanRunDeps;
  run: RunRecord;
  exp: ExportRecord;
  connection: Connection;
  segments: SegmentInfo[];
  remainingMs: () => number;
}

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

const readSnapshot = async (ctx: Context): Promise<Map<string, SnapshotEntry>> => {
  const index = new Map(ctx.run.segmentIds.map((id, i) => [id, i]));
  const snapshot = new Map<string, SnapshotEntry>();
  for await (const entry of ctx.deps.store.readSnapshot(ctx.exp.id)) {
    let segments = 0;
    for (const id of entry.segmentIds) {
      const i = index.get(id);
      // Segments the export no longer selects are not this run's business.
      if (i !== undefined) segments |= 1 << i;
    }
    if (segments === 0 && entry.hash === '') continue;
    snapshot.set(entry.key, { hash: entry.hash, segments, ...(entry.email ? { email: entry.email } : {}) });
  }
  return snapshot;
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

  // Lists first: a list that changed since the last run (deleted in Autopilot and recreated, or
  // retitled) has nobody on it yet, so what the snapshot remembers for it must not count.
  if (exp.membership === 'list' && run.trigger !== 'dry-run' && state.listIds === undefined) {
    const tally = new RequestTally();
    const { session, call } = await accessConnection(deps, connection, tally, {
      remainingMs: ctx.remainingMs,
      reserveMs: deps.settings.reserveMs / 2,
    });
    const listIds = await resolveLists(
      { store: deps.store, session, connectionId: connection.id, runId: run.id, clock: deps.clock, call },
      ctx.segments.map((s) => listTitle(exp, s)),
    );
    addRequests(state.requests, tally.requests);
    await deps.store.addRequests(run.id, tally.requests, tally.throttled);
    const remembered = await deps.store.snapshotLists(exp.id);
    for (const [i, segmentId] of run.segmentIds.entries()) {
      const listId = listIds[i] ?? '';
      const previous = remembered[segmentId];
      if (previous !== undefined && previous !== listId) {
        for (const entry of snapshot.values()) entry.segments &= ~(1 << i);
        deps.logger.warn('segment list changed since the last run; every member is added to the new list', {
          runId: run.id,
          segmentId,
        });
      }
      await deps.store.setSnapshotList(exp.id, segmentId, listId);
    }
    state.listIds = listIds;
  }

  const capability = planningCapability(connection, deps.clock.now(), deps.settings.probeRecheckMs);
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

type CollectResult = 'done' | 'paused' | 'cap' | 'cancelled';

const CANCEL_CHECK_PAGES = 10;

const collect = async (
  ctx: Context,
  collector: ContactCollector,
  state: PlannerCheckpoint,
): Promise<CollectResult> => {
  const { deps, run, exp } = ctx;
  let pages = 0;
  while (state.segmentIndex < run.segmentIds.length) {
    const i = state.segmentIndex;
    const segmentId = run.segmentIds[i] ?? '';
    const page = await deps.segments.readPage(segmentId, state.cursor, deps.settings.pageSize);
    for (const profile of page.profiles) collector.add(i, profile.id, mapProfile(profile, exp.dataMatching));
    for (const skipped of page.skipped) collector.skip(i, skipped.profileId, skipped.reason);
    if (collector.capExceeded) return 'cap';
    if (page.next === undefined) {
      state.segmentIndex++;
      delete state.cursor;
    } else {
      state.cursor = page.next;
    }
    const short = ctx.remainingMs() < deps.settings.reserveMs;
    if (short || ++pages % CANCEL_CHECK_PAGES === 0) {
      const latest = await deps.store.getRun(run.id);
      if (latest?.cancelRequested) {
        await endRun(deps, run, 'cancelled', 'Cancelled while planning.');
        return 'cancelled';
      }
    }
    if (short && state.segmentIndex < run.segmentIds.length) return 'paused';
  }
  return 'done';
};

/** Every contact in the union of current and snapshot, in key order, with its decision, handed to `use`. */
const decideAll = (
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  segmentCount: number,
  use: (input: PlanInput) => void,
): DiffTotals => {
  const keys = new Set(collector.contacts.keys());
  for (const key of snapshot.keys()) if (!collector.heldBack.has(key)) keys.add(key);
  const totals = emptyDiffTotals(segmentCount);
  for (const key of [...keys].sort()) {
    const contact = collector.contacts.get(key);
    const previous = snapshot.get(key);
    let current: PlanInput['current'];
    if (contact !== undefined) {
      // Serialised once: both the size check and the hash need it.
      const canonical = canonicalContact(contact.data);
      if (canonical.length > MAX_CONTACT_CHARS) {
        collector.skip(0, contact.profileId, 'contact_too_large');
        continue;
      }
      current = { data: contact.data, hash: hashCanonical(canonical) };
    }
    const decision = decide(current && { hash: current.hash, segments: contact?.segments ?? 0 }, previous);
    tally(totals, decision);
    use({ email: contact?.data.email ?? previous?.email ?? key, current, decision });
  }
  return totals;
};

const batchPlanner = (
  ctx: Context,
  capability: BulkMembership,
  emit: (batch: PlannedBatch) => void,
): BatchPlanner => {
  const { deps, exp } = ctx;
  return new BatchPlanner(
    {
      mode: exp.membership,
      onLeave: exp.onLeave,
      segmentCount: ctx.segments.length,
      membershipFields: ctx.segments.map((s) => membershipFieldName(exp, s)),
      costs: deps.destination.costs,
      capability,
      sizes: { bulk: deps.destination.costs.bulkLimit, perContact: deps.settings.perContactBatchSize },
    },
    emit,
  );
};

const stats = (
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

const finishPlanning = async (
  ctx: Context,
  collector: ContactCollector,
  totals: ReturnType<typeof emptyDiffTotals>,
  requests: Record<string, number>,
  floor: number,
  batchesTotal: number,
  listIds?: readonly string[],
): Promise<void> => {
  const { deps, run, connection } = ctx;
  const now = deps.clock.now();
  const planningFinishedAt = new Date(now).toISOString();
  await deps.store.completePlanning(run.id, {
    planning: stats(ctx, collector, totals, listIds),
    estimate: buildEstimate(requests, floor, connection.ratePerSecond, false),
    batchesTotal,
    planningFinishedAt,
  });
  await deps.store.deleteCheckpoint(run.id);
  if (run.trigger === 'dry-run') {
    await deps.store.transitionRun(run.id, ['planning'], 'succeeded', {
      finishedAt: planningFinishedAt,
      durationMs: now - Date.parse(run.createdAt),
    });
    return;
  }
  await deps.store.transitionRun(run.id, ['planning'], 'sending');
  await finaliseIfComplete(deps, run.id);
};
