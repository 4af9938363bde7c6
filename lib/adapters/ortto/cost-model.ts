import type { CostModel } from '#lib/domain/costs.ts';
import { ORTTO_PAGE_LIMIT } from './client.ts';
import { ORTTO_MERGE_LIMIT } from './merge.ts';

/** The lowest plan's documented rate (Ortto's two rate pages disagree; higher plans allow 30/s). */
export const ORTTO_DOCUMENTED_RATE = 10;

/**
 * Ortto's prices in requests (docs/ortto.md#cost). Membership is one tag per segment, and one merge
 * entry carries a person's field changes, every tag it joins (`tags`) and every tag it leaves
 * (`unset_tags`): a person changed in any way costs 1/100 of a request, however many segments it
 * joins or leaves. Joins and leaves are therefore always "in bulk".
 *
 * The CostModel shape prices list mode per membership change (joins × 1/100 + leaves × 1/100), which
 * overcounts a person who joins or leaves several segments at once; the planner's field mode (one
 * bulk entry per changed person, membership included) is what matches Ortto, with tags in place of
 * membership fields (docs/ortto.md#planner).
 */
export const orttoCosts: CostModel = {
  bulkLimit: ORTTO_MERGE_LIMIT,
  documentedRatePerSecond: ORTTO_DOCUMENTED_RATE,
  listJoinInBulk: (): boolean => true,
  listLeaveInBulk: true,
};

/** Requests per operation, for estimates, the floor and the benchmark. */
export const orttoRequests = {
  /** People changed in any way (fields, joins, leaves, pure leavers): ⌈n / 100⌉ merges. */
  merge: (changedPeople: number): number => Math.ceil(Math.max(0, changedPeople) / ORTTO_MERGE_LIMIT),
  /**
   * Verification: one `tags/get` per segment tag, made by every tag-mode run before it plans (and
   * priced by a dry run) so that the run reads back only tags whose count disagrees.
   */
  verify: (segments: number): number => Math.max(0, segments),
  /** Reading people back (repair): ⌈n / 500⌉ pages of `person/get`, plus the tag look-up. */
  readBack: (people: number): number => 1 + Math.max(1, Math.ceil(Math.max(0, people) / ORTTO_PAGE_LIMIT)),
} as const;
