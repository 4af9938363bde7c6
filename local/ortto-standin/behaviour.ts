import * as z from 'zod';
import type { StandInBehaviour } from './types.ts';

/** The lowest plan's documented rate; the other page and the higher plans allow more. */
export const ORTTO_DEFAULT_RATE = 10;

const tagMode = z.enum(['apply', 'ignore']);

export const BehaviourPatchSchema = z.object({
  ratePerSecond: z.number().positive().optional(),
  burst: z.number().min(1).optional(),
  retryAfter: z.boolean().optional(),
  banThreshold: z.number().int().min(1).optional(),
  banWindowSeconds: z.number().positive().optional(),
  banSeconds: z.number().min(0).optional(),
  mixedBatch: z.enum(['inline', 'omit', 'reject']).optional(),
  skippedAnswer: z.enum(['ignored', 'omit']).optional(),
  strategy1Tags: tagMode.optional(),
  strategy3Tags: tagMode.optional(),
  tagFilter: z.boolean().optional(),
  crossRegionKeys: z.boolean().optional(),
});

export const DEFAULT_BEHAVIOUR: Readonly<StandInBehaviour> = {
  ratePerSecond: ORTTO_DEFAULT_RATE,
  burst: ORTTO_DEFAULT_RATE,
  retryAfter: false,
  banThreshold: 15,
  banWindowSeconds: 15,
  banSeconds: 15,
  mixedBatch: 'inline',
  skippedAnswer: 'ignored',
  strategy1Tags: 'apply',
  // "Leaves existing people untouched": the literal reading.
  strategy3Tags: 'ignore',
  tagFilter: false,
  crossRegionKeys: false,
};

/** Live settings; until a burst is set explicitly it follows the rate (never below 1). */
export class BehaviourState {
  private value: StandInBehaviour = { ...DEFAULT_BEHAVIOUR };
  private burstExplicit = false;

  get current(): Readonly<StandInBehaviour> {
    return this.value;
  }

  /** Validates and merges a patch; keys that are not behaviour (other start options) are ignored. */
  apply(patch: Partial<StandInBehaviour>): void {
    const parsed = BehaviourPatchSchema.parse(patch);
    const defined = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
    if (parsed.burst !== undefined) this.burstExplicit = true;
    this.value = { ...this.value, ...defined };
    if (!this.burstExplicit) this.value.burst = Math.max(1, this.value.ratePerSecond);
  }
}
