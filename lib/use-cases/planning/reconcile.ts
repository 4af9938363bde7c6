import type { ContactCollector } from '#lib/domain/collector.ts';
import { addRequests } from '#lib/domain/costs.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { checkEmail } from '#lib/domain/email.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { SnapshotChange } from '#lib/domain/snapshot.ts';
import { SlotTooLateError } from '#lib/ports/rate-budget.ts';
import { accessConnection, RequestTally, ThrottledTooLongError } from '../destination-calls.ts';
import { endRun } from '../run-lifecycle.ts';
import type { PlannerCheckpoint, ReconcileState } from './checkpoint.ts';
import type { Context } from './context.ts';
import { classify, emptyDrift, forgetMissing } from './drift-corrections.ts';
import { countsTags, countTags, priceCounts, repairChecks } from './tag-counts.ts';

const CANCEL_CHECK_PAGES = 10;

/**
 * Drift repair (docs/architecture.md#drift-repair): a repair run reads each of its lists (tags, in tag
 * mode) back, page by page within the rate budget, and corrects the frozen snapshot to what they
 * really hold, so the normal diff re-joins members that went missing and removes strangers this
 * product added. A tag-mode run that does not repair first counts each tag (tag-counts.ts) and reads
 * back only the tags whose count disagrees with the snapshot. Runs once the lists are resolved and
 * the segments read, before the plan is decided. Each correction is also written to the stored
 * snapshot before the plan (and so any batch) exists: a run that ends early leaves the next run
 * planning from reality. Returns `paused` when time ran short (the checkpoint holds the list and
 * bookmark to continue from).
 */
export const reconcile = async (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  state: PlannerCheckpoint,
): Promise<'done' | 'paused' | 'cancelled'> => {
  const { deps, run } = ctx;
  priceCounts(ctx, state.requests);
  const counts = countsTags(ctx);
  if ((run.repair !== true && !counts) || state.listIds === undefined || state.reconcile?.done) return 'done';
  const listIds = state.listIds;
  const tally = new RequestTally();
  let progress = state.reconcile;
  try {
    const { session, call } = await accessConnection(deps, ctx.connection, tally, {
      remainingMs: ctx.remainingMs,
      reserveMs: deps.settings.reserveMs / 2,
    });
    if (progress === undefined) {
      const drift = emptyDrift();
      if (ctx.exp.membership === 'tag') {
        const tags = counts
          ? await countTags(ctx, snapshot, listIds, session, call)
          : repairChecks(ctx, snapshot, listIds);
        // A destination that cannot count: nothing is verified, nothing read back.
        if (tags === undefined) return 'done';
        drift.tags = tags;
      }
      progress = state.reconcile = { list: 0, seen: [], drift };
    }
    const read = (listId: string, bookmark?: string) => call(() => session.listMembers(listId, bookmark));
    let pages = 0;
    while (progress.list < listIds.length) {
      if (progress.drift.tags?.[progress.list]?.readBack === false) {
        progress.list++;
        continue;
      }
      const outcome = await readList(ctx, collector, snapshot, progress, listIds, read, () => ++pages);
      if (outcome !== 'done') return outcome;
    }
  } catch (error) {
    // Out of time waiting for the rate budget: the next invocation reads on from the bookmark.
    if (error instanceof SlotTooLateError || error instanceof ThrottledTooLongError) return 'paused';
    throw error;
  } finally {
    addRequests(state.requests, tally.requests);
    await deps.batches.addRequests(run.id, tally.requests, tally.throttled);
  }
  progress.done = true;
  await deps.plans.saveStats(run.id, { drift: progress.drift });
  const { tags, ...found } = progress.drift;
  const counted = tags?.filter((t) => t.counted !== null).length ?? 0;
  deps.logger.info(run.repair === true || found.lists > 0 ? 'drift repaired' : 'tags verified', {
    runId: run.id,
    exportId: ctx.exp.id,
    ...found,
    ...(tags === undefined ? {} : { counted }),
  });
  return 'done';
};

type Read = (listId: string, bookmark?: string) => Promise<{ emails: string[]; bookmark?: string }>;

/** Reads the list (or tag) at `progress.list` from its bookmark to its end, correcting the snapshot. */
const readList = async (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  progress: ReconcileState,
  listIds: readonly string[],
  read: Read,
  nextPage: () => number,
): Promise<'done' | 'paused' | 'cancelled'> => {
  const { deps, run, exp } = ctx;
  const i = progress.list;
  const listId = listIds[i] ?? '';
  const segmentId = run.segmentIds[i] ?? '';
  const bit = 1 << i;
  const seen = new Set(progress.seen);
  const removeForeign =
    exp.repair?.removeForeign === true && exp.onLeave === 'remove' && (await productList(ctx, i, listId));
  const check = progress.drift.tags?.[i];
  const leftAlone = (): number => progress.drift.strangerForeign - progress.drift.foreignRemoved;
  try {
    for (;;) {
      const page = await read(listId, progress.bookmark);
      const changes: SnapshotChange[] = [];
      const foreignBefore = leftAlone();
      for (const raw of page.emails) {
        const checked = checkEmail(raw);
        if (!checked.ok || seen.has(checked.key)) continue;
        progress.drift.read++;
        const change = classify(
          checked.key,
          raw,
          snapshot,
          collector,
          bit,
          segmentId,
          progress.drift,
          removeForeign,
        );
        if (change !== undefined) seen.add(checked.key);
        if (change !== undefined && change !== 'member') changes.push(change);
      }
      // Remembered per tag, so the next run's count expects them (tag-counts.ts).
      if (check !== undefined) check.foreign += leftAlone() - foreignBefore;
      if (changes.length > 0) await deps.snapshots.apply(exp.id, changes);
      if (page.bookmark === undefined) break;
      progress.bookmark = page.bookmark;
      const short = ctx.remainingMs() < deps.settings.reserveMs;
      if (short || nextPage() % CANCEL_CHECK_PAGES === 0) {
        if ((await deps.runs.get(run.id))?.cancelRequested) {
          const what = exp.membership === 'tag' ? 'tags' : 'lists';
          await endRun(deps, run, 'cancelled', `Cancelled while reading its ${what} back for repair.`);
          return 'cancelled';
        }
      }
      if (short) return 'paused';
    }
  } finally {
    progress.seen = [...seen];
  }
  await forgetMissing(ctx, collector, snapshot, seen, bit, segmentId, progress.drift);
  progress.drift.lists++;
  progress.list++;
  progress.seen = [];
  delete progress.bookmark;
  return 'done';
};

/**
 * Whether the product owns the list: the list registry maps its title to it (created by this
 * product, or adopted by an admin's choice, which already removes members outside the segment). A
 * segment tag is the export's own: it claimed it among its targets (targets.ts), and tags have no
 * registry.
 */
const productList = async (ctx: Context, i: number, listId: string): Promise<boolean> => {
  if (ctx.exp.membership === 'tag') return true;
  const segment = ctx.segments[i];
  if (segment === undefined) return false;
  const mapping = await ctx.deps.lists.get(ctx.connection.id, listTitle(ctx.exp, segment));
  return mapping !== undefined && 'listId' in mapping && mapping.listId === listId;
};
