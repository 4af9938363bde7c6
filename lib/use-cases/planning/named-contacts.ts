import type { ContactCollector } from '#lib/domain/collector.ts';
import type { ContactDecision, SnapshotEntry } from '#lib/domain/diff.ts';
import { maskEmail } from '#lib/domain/email.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';

/** Skip reason of a named contact that no segment of the export holds and that has nothing to remove. */
export const NOT_IN_SEGMENTS = 'not_in_segments';

/**
 * The contacts a re-send or retry is limited to (docs/architecture.md#re-send-and-retry), or
 * undefined for a run of the whole export.
 */
export const namedContacts = (run: RunRecord): ReadonlySet<string> | undefined =>
  run.contacts === undefined ? undefined : new Set(run.contacts.emails);

/**
 * A named contact is sent as it is now whatever the snapshot says (the point of a re-send): its data
 * even when its hash is unchanged, and a join for every segment it is in now, not only the new ones.
 * Leaves stay as decided: only memberships the snapshot says the product made are removed.
 */
export const forced = (decision: ContactDecision): ContactDecision => {
  if (decision.change === 'left') return decision;
  return {
    ...decision,
    change: decision.change === 'unchanged' ? 'changed' : decision.change,
    joins: decision.current,
  };
};

/**
 * Counts the named contacts found in no segment and with no membership to remove as skipped. Set,
 * not added, so a planner resumed after this point counts them once.
 */
export const countNotInSegments = (
  collector: ContactCollector,
  snapshot: ReadonlyMap<string, SnapshotEntry>,
  named: ReadonlySet<string>,
): void => {
  const missing = [...named].filter((key) => {
    if (collector.contacts.has(key)) return false;
    const entry = snapshot.get(key);
    return entry === undefined || (entry.segments | (entry.maybe ?? 0)) === 0;
  });
  if (missing.length === 0) return;
  collector.counts.invalid[NOT_IN_SEGMENTS] = missing.length;
  for (const key of missing.sort()) {
    const profileId = maskEmail(key);
    const known = collector.samples.some((s) => s.reason === NOT_IN_SEGMENTS && s.profileId === profileId);
    if (!known && collector.samples.length < 20)
      collector.samples.push({ profileId, segmentId: '', reason: NOT_IN_SEGMENTS });
  }
};
