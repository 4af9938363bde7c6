import type { ContactCollector } from '#lib/domain/collector.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import type { Drift } from '#lib/domain/run-record.ts';
import type { SnapshotChange } from '#lib/domain/snapshot.ts';
import type { Context } from './context.ts';

type Snapshot = Map<string, SnapshotEntry>;

const APPLY_CHUNK = 500;

export const emptyDrift = (): Drift => ({
  lists: 0,
  read: 0,
  missing: 0,
  strangerOurs: 0,
  strangerForeign: 0,
  foreignRemoved: 0,
});

/**
 * One member found on the list (or carrying the tag, in tag mode): `member` when the snapshot already
 * counts it, a change when the snapshot must now count it as a member, undefined when it is left out
 * of the snapshot. `key` is the lower-cased address the snapshot is keyed by in every mode; entries
 * are written back with `set`, never changed in place, as the snapshot promises only a Map's surface.
 */
export const classify = (
  key: string,
  email: string,
  snapshot: Snapshot,
  collector: ContactCollector,
  bit: number,
  segmentId: string,
  drift: Drift,
  removeForeign: boolean,
): SnapshotChange | 'member' | undefined => {
  const entry = snapshot.get(key);
  if (entry !== undefined && entry.segments & bit) return 'member';
  const join = {
    key,
    hash: null,
    join: [segmentId],
    leave: [],
    forget: false,
    ...(email === key ? {} : { email }),
  };
  if (entry !== undefined && (entry.maybe ?? 0) & bit) {
    // An unconfirmed join or leave: the list says which one happened.
    snapshot.set(key, { ...entry, segments: entry.segments | bit, maybe: (entry.maybe ?? 0) & ~bit });
    return join;
  }
  // In the segment now: the normal diff joins it (a repeat join changes nothing), as for any member.
  if ((collector.contacts.segmentsOf(key) & bit) !== 0) return undefined;
  if (entry !== undefined) {
    // Sent by this product before: counted as a member, it leaves the list as any leaver does.
    drift.strangerOurs++;
    snapshot.set(key, { ...entry, segments: entry.segments | bit });
    return join;
  }
  drift.strangerForeign++;
  if (!removeForeign) return undefined;
  drift.foreignRemoved++;
  snapshot.set(key, { hash: '', segments: bit, ...(email === key ? {} : { email }) });
  return join;
};

/**
 * Members the snapshot counts but the list (or tag) lacks are no longer counted, so the diff joins
 * them again when their segment still holds them. A contact left in no segment and no longer
 * collected is forgotten.
 */
export const forgetMissing = async (
  ctx: Context,
  collector: ContactCollector,
  snapshot: Snapshot,
  seen: ReadonlySet<string>,
  bit: number,
  segmentId: string,
  drift: Drift,
): Promise<void> => {
  const changes: SnapshotChange[] = [];
  const kept: Array<[string, SnapshotEntry]> = [];
  for (const [key, entry] of snapshot.entries()) {
    const maybe = entry.maybe ?? 0;
    if (seen.has(key) || ((entry.segments | maybe) & bit) === 0) continue;
    if (entry.segments & bit) drift.missing++;
    const after = { ...entry, segments: entry.segments & ~bit, maybe: maybe & ~bit };
    const forget = after.segments === 0 && after.maybe === 0 && !collector.contacts.has(key);
    if (!forget) kept.push([key, after]);
    changes.push({ key, hash: null, join: [], leave: [segmentId], forget });
  }
  // Written once the reading is over: the snapshot is not changed under its own iterator.
  for (const change of changes) if (change.forget) snapshot.delete(change.key);
  for (const [key, after] of kept) snapshot.set(key, after);
  for (let at = 0; at < changes.length; at += APPLY_CHUNK)
    await ctx.deps.snapshots.apply(ctx.exp.id, changes.slice(at, at + APPLY_CHUNK));
};
