import * as z from 'zod';

/**
 * The removal guardrail (docs/architecture.md#removal-guardrail): a run that would remove more than
 * `maxFraction` of a target's current members *and* more than `minContacts` contacts from it is held
 * before any removal is sent, until an admin approves or rejects. An upstream segment that comes back
 * empty by mistake must never empty a list.
 */
export const RemovalGuardrailSchema = z
  .object({
    enabled: z.boolean().default(true),
    maxFraction: z
      .number()
      .min(0, 'must be between 0 and 1 (a fraction of the list, 0.1 = 10%)')
      .max(1, 'must be between 0 and 1 (a fraction of the list, 0.1 = 10%)')
      .default(0.1),
    minContacts: z
      .number()
      .int('must be a whole number of contacts')
      .min(0, 'must not be negative')
      .max(10_000_000, 'must be at most 10,000,000')
      .default(100),
  })
  .strict();
export type RemovalGuardrail = z.infer<typeof RemovalGuardrailSchema>;

export const DEFAULT_REMOVAL_GUARDRAIL: RemovalGuardrail = RemovalGuardrailSchema.parse({});

/** One target (a list in list mode, a membership field in field mode) and what the plan removes from it. */
export const HoldTargetSchema = z.object({
  segmentId: z.string(),
  /** The list title (list mode) or membership field name (field mode). */
  target: z.string(),
  /** Its members before this run, as the snapshot knows them. */
  members: z.number(),
  removals: z.number(),
  /** Whether this target's removals crossed the threshold (any one crossing holds every removal). */
  exceeds: z.boolean(),
});
export type HoldTarget = z.infer<typeof HoldTargetSchema>;

export const HoldDecisionSchema = z.object({
  outcome: z.enum(['approved', 'rejected']),
  by: z.string(),
  at: z.string().min(1),
});
export type HoldDecision = z.infer<typeof HoldDecisionSchema>;

export const RunHoldSchema = z.object({
  /** Every target the plan removes contacts from. */
  targets: z.array(HoldTargetSchema),
  /** When the run was held. */
  at: z.string().min(1),
  /** The held removal batches are the plan's last ones: `firstBatch` … `batchesTotal - 1`. */
  firstBatch: z.number().int().min(0),
  /** Removal operations held (contacts × targets). */
  removals: z.number(),
  decision: HoldDecisionSchema.optional(),
});
export type RunHold = z.infer<typeof RunHoldSchema>;

/** Whether removing `removals` of a target's `members` crosses the threshold. */
export const exceedsGuardrail = (guard: RemovalGuardrail, members: number, removals: number): boolean =>
  guard.enabled && removals > guard.maxFraction * members && removals > guard.minContacts;

/**
 * The targets to report when the plan must be held, or undefined when it may go ahead: at least one
 * target crosses the threshold. Every target with removals is listed, so the admin sees all of them.
 */
export const heldTargets = (
  guard: RemovalGuardrail,
  targets: ReadonlyArray<Omit<HoldTarget, 'exceeds'>>,
): HoldTarget[] | undefined => {
  if (!guard.enabled) return undefined;
  const marked = targets.map((t) => ({ ...t, exceeds: exceedsGuardrail(guard, t.members, t.removals) }));
  if (!marked.some((t) => t.exceeds)) return undefined;
  return marked.filter((t) => t.removals > 0);
};
