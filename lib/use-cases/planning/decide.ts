import type { ContactCollector } from '#lib/domain/collector.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import { type DiffTotals, decide, emptyDiffTotals, type SnapshotEntry, tally } from '#lib/domain/diff.ts';
import { membershipFieldName } from '#lib/domain/export-config.ts';
import { canonicalContact, hashCanonical } from '#lib/domain/hash.ts';
import { BatchPlanner, type PlanInput, type PlannedBatch } from '#lib/domain/plan.ts';
import type { Context } from './context.ts';
import { forced } from './named-contacts.ts';

/**
 * Every contact in the union of current and snapshot, in key order, with its decision, handed to `use`.
 * With `named` (a re-send or retry), only those contacts, each sent whatever its snapshot says.
 */
export const decideAll = (
  collector: ContactCollector,
  snapshot: Map<string, SnapshotEntry>,
  segmentCount: number,
  use: (input: PlanInput) => void,
  named?: ReadonlySet<string>,
): DiffTotals => {
  const keys = new Set(collector.contacts.keys());
  for (const key of snapshot.keys())
    if (!collector.heldBack.has(key) && (named === undefined || named.has(key))) keys.add(key);
  const totals = emptyDiffTotals(segmentCount);
  for (const key of [...keys].sort()) {
    const contact = collector.contacts.get(key);
    const previous = snapshot.get(key);
    let current: PlanInput['current'];
    if (contact !== undefined) {
      current = { data: contact.data, hash: hashCanonical(canonicalContact(contact.data)) };
    }
    const decided = decide(current && { hash: current.hash, segments: contact?.segments ?? 0 }, previous);
    const decision = named === undefined ? decided : forced(decided);
    tally(totals, decision);
    use({ email: contact?.data.email ?? previous?.email ?? key, current, decision });
  }
  return totals;
};

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
      costs: deps.destination.costs,
      capability,
      sizes: { bulk: deps.destination.costs.bulkLimit, perContact: deps.settings.perContactBatchSize },
      separateLeaves,
    },
    emit,
  );
};
