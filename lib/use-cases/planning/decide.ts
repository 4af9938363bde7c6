import type { ContactCollector } from '#lib/domain/collector.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import { type DiffTotals, decide, emptyDiffTotals, type SnapshotEntry, tally } from '#lib/domain/diff.ts';
import { membershipFieldName, membershipTagName } from '#lib/domain/export-config.ts';
import { canonicalContact, hashCanonical } from '#lib/domain/hash.ts';
import { BatchPlanner, type PlanInput, type PlannedBatch } from '#lib/domain/plan.ts';
import type { Context } from './context.ts';
import { forced } from './named-contacts.ts';

/**
 * Every contact in the union of current and snapshot, in key order, with its decision; the totals
 * when done. With `named` (a re-send or retry), only those contacts, each sent whatever its snapshot
 * says. A generator, so a caller can turn each decision into batches and messages as it comes.
 */
export function* decisions(
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  segmentCount: number,
  named?: ReadonlySet<string>,
): Generator<PlanInput, DiffTotals> {
  // Two sorted arrays merged, rather than a set of every key: no second hash table of a million keys.
  const current = [...collector.contacts.keys()].sort();
  const gone: string[] = [];
  for (const key of snapshot.keys())
    if (
      !collector.contacts.has(key) &&
      !collector.heldBack.has(key) &&
      (named === undefined || named.has(key))
    )
      gone.push(key);
  gone.sort();
  const totals = emptyDiffTotals(segmentCount);
  let i = 0;
  let j = 0;
  while (i < current.length || j < gone.length) {
    const a = current[i];
    const b = gone[j];
    const key = (b === undefined || (a !== undefined && a < b) ? current[i++] : gone[j++]) as string;
    const contact = collector.contacts.get(key);
    const previous = snapshot.get(key);
    let input: PlanInput['current'];
    if (contact !== undefined) {
      input = { data: contact.data, hash: hashCanonical(canonicalContact(contact.data)) };
    }
    const decided = decide(input && { hash: input.hash, segments: contact?.segments ?? 0 }, previous);
    const decision = named === undefined ? decided : forced(decided);
    tally(totals, decision);
    yield { email: contact?.data.email ?? previous?.email ?? key, current: input, decision };
  }
  return totals;
}

/** The batch planner for this run's export, destination and bulk-membership capability. */
export const batchPlanner = (
  ctx: Context,
  capability: BulkMembership,
  emit: (batch: PlannedBatch) => void,
  separateLeaves = false,
): BatchPlanner => {
  const { deps, exp } = ctx;
  return new BatchPlanner(
    {
      mode: exp.membership,
      onLeave: exp.onLeave,
      segmentCount: ctx.segments.length,
      membershipFields: ctx.segments.map((s) => membershipFieldName(exp, s)),
      membershipTags: ctx.segments.map((s) => membershipTagName(exp, s)),
      costs: ctx.destination.costs,
      capability,
      sizes: { bulk: ctx.destination.costs.bulkLimit, perContact: deps.settings.perContactBatchSize },
      separateLeaves,
    },
    emit,
  );
};
