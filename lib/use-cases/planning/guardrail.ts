import type { DiffTotals, SnapshotEntry } from '#lib/domain/diff.ts';
import { membershipTargetName } from '#lib/domain/export-config.ts';
import { DEFAULT_REMOVAL_GUARDRAIL, type HoldTarget, heldTargets } from '#lib/domain/removal-guardrail.ts';
import type { Context } from './context.ts';

/**
 * The targets the removal guardrail holds this plan for, or undefined when it may go ahead. A
 * target's members are the snapshot's certain members of its segment, before this run.
 */
export const guardrailHold = (
  ctx: Context,
  snapshot: ReadonlyMap<string, SnapshotEntry>,
  totals: DiffTotals,
): HoldTarget[] | undefined => {
  const { exp, segments } = ctx;
  const guard = exp.removalGuardrail ?? DEFAULT_REMOVAL_GUARDRAIL;
  if (exp.onLeave !== 'remove' || !guard.enabled) return undefined;
  const members = segments.map(() => 0);
  for (const entry of snapshot.values()) {
    for (let i = 0; i < members.length; i++)
      if (entry.segments & (1 << i)) members[i] = (members[i] ?? 0) + 1;
  }
  return heldTargets(
    guard,
    segments.map((s, i) => ({
      segmentId: s.id,
      target: membershipTargetName(exp, s),
      members: members[i] ?? 0,
      removals: totals.leaves[i] ?? 0,
    })),
  );
};
