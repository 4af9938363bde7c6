import type { ContactCollector } from '#lib/domain/collector.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { MAX_CONTACT_BYTES, utf8Length } from '#lib/domain/messages.ts';
import { SnapshotMap } from '#lib/domain/snapshot-map.ts';
import { endRun } from '../run-lifecycle.ts';
import { loadSnapshot } from '../snapshot-view.ts';
import type { PlannerCheckpoint } from './checkpoint.ts';
import type { Context } from './context.ts';
import { namedContacts } from './named-contacts.ts';

/** The snapshot as bit masks over the run's segments (segments it no longer selects are ignored). */
export const readSnapshot = async (ctx: Context): Promise<Map<string, SnapshotEntry>> => {
  const index = new Map(ctx.run.segmentIds.map((id, i) => [id, i]));
  // Columns rather than an object per contact: at a million contacts the map is most of the heap.
  const snapshot = new SnapshotMap();
  const mask = (ids: readonly string[] | undefined): number => {
    let bits = 0;
    for (const id of ids ?? []) {
      const i = index.get(id);
      // Segments the export no longer selects are not this run's business.
      if (i !== undefined) bits |= 1 << i;
    }
    return bits;
  };
  // A dry run reads only; a run settles what earlier runs' ledgers recorded and compacts (snapshot-view.ts).
  const fold = await loadSnapshot(ctx.deps, ctx.exp.id, { maintain: ctx.run.trigger !== 'dry-run' });
  for (const entry of fold.read(true)) {
    const segments = mask(entry.segmentIds);
    const maybe = mask(entry.maybeSegmentIds) & ~segments;
    if (segments === 0 && maybe === 0 && entry.hash === '') continue;
    snapshot.set(entry.key, {
      hash: entry.hash,
      segments,
      ...(maybe === 0 ? {} : { maybe }),
      ...(entry.email ? { email: entry.email } : {}),
    });
  }
  return snapshot;
};

export type CollectResult = 'done' | 'paused' | 'cap' | 'cancelled';

const CANCEL_CHECK_PAGES = 10;

/** Phase one: reads the segments page by page into the collector, pausing when time runs short. */
export const collect = async (
  ctx: Context,
  collector: ContactCollector,
  state: PlannerCheckpoint,
): Promise<CollectResult> => {
  const { deps, run, exp } = ctx;
  let pages = 0;
  // A re-send or retry reads every page but keeps only the contacts it names; the rest are not its business.
  const named = namedContacts(run);
  while (state.segmentIndex < run.segmentIds.length) {
    const i = state.segmentIndex;
    const segmentId = run.segmentIds[i] ?? '';
    const page = await deps.segments.readPage(segmentId, state.cursor, deps.settings.pageSize);
    for (const profile of page.profiles) {
      const outcome = mapProfile(profile, exp.dataMatching);
      if (named !== undefined && !(outcome.ok && named.has(outcome.contact.key))) continue;
      // Checked in bytes, as the queue counts them: a contact that cannot travel is skipped here,
      // never left to fail the whole plan when its batch is queued.
      if (outcome.ok && utf8Length(JSON.stringify(outcome.contact.data)) > MAX_CONTACT_BYTES) {
        collector.skip(i, profile.id, 'too_large');
        continue;
      }
      collector.add(i, profile.id, outcome);
    }
    if (named === undefined)
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
      const latest = await deps.runs.get(run.id);
      if (latest?.cancelRequested) {
        await endRun(deps, run, 'cancelled', 'Cancelled while planning.');
        return 'cancelled';
      }
    }
    if (short && state.segmentIndex < run.segmentIds.length) return 'paused';
  }
  return 'done';
};
