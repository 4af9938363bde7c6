import * as z from 'zod';
import { AUTOPILOT_DOCUMENTED_RATE } from '#lib/adapters/autopilot/cost-model.ts';
import type { StandInBehaviour } from './types.ts';

export const BehaviourPatchSchema = z.object({
  ratePerSecond: z.number().positive().optional(),
  burst: z.number().min(1).optional(),
  retryAfter: z.boolean().optional(),
  bulkListMembership: z.enum(['ignore', 'honour']).optional(),
  duplicateListNames: z.enum(['allow', 'conflict']).optional(),
  deleteContactStatus: z.union([z.literal(200), z.literal(204)]).optional(),
  membershipNotModified: z.boolean().optional(),
});

export const DEFAULT_BEHAVIOUR: Readonly<StandInBehaviour> = {
  // Autopilot's documented budget, with a one-second burst.
  ratePerSecond: AUTOPILOT_DOCUMENTED_RATE,
  burst: AUTOPILOT_DOCUMENTED_RATE,
  retryAfter: false,
  bulkListMembership: 'ignore',
  duplicateListNames: 'allow',
  deleteContactStatus: 200,
  membershipNotModified: true,
};

/**
 * The live behaviour settings. Until a burst is set explicitly, the burst follows the rate
 * (never below 1, or a sub-1 r/s bucket could never admit anything).
 */
export class BehaviourState {
  private value: StandInBehaviour = { ...DEFAULT_BEHAVIOUR };
  private burstExplicit = false;

  get current(): Readonly<StandInBehaviour> {
    return this.value;
  }

  /** Validates and merges a patch; unknown keys (e.g. other start options) are ignored. */
  apply(patch: Partial<StandInBehaviour>): void {
    const parsed = BehaviourPatchSchema.parse(patch);
    const defined = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
    if (parsed.burst !== undefined) this.burstExplicit = true;
    this.value = { ...this.value, ...defined };
    if (!this.burstExplicit) this.value.burst = Math.max(1, this.value.ratePerSecond);
  }
}
