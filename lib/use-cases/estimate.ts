import type { BulkMembership, CostModel } from '#lib/domain/costs.ts';
import { durationSeconds, totalRequests } from '#lib/domain/costs.ts';
import type { MembershipMode } from '#lib/domain/plan.ts';
import type { RequestEstimate } from '#lib/domain/run-record.ts';

export const buildEstimate = (
  requests: Partial<Record<string, number>>,
  floorRequests: number,
  rates: { ratePerSecond: number; documentedRatePerSecond: number },
  upperBound: boolean,
): RequestEstimate => {
  const { ratePerSecond } = rates;
  const clean: Record<string, number> = {};
  for (const [k, v] of Object.entries(requests)) if (v) clean[k] = v;
  const total = totalRequests(clean);
  return {
    requests: clean,
    totalRequests: total,
    floorRequests: Math.round(floorRequests * 100) / 100,
    ratePerSecond,
    seconds: Math.ceil(durationSeconds(total, ratePerSecond)),
    secondsAtDocumentedRate: Math.ceil(durationSeconds(total, rates.documentedRatePerSecond)),
    upperBound,
  };
};

/**
 * Before anything is diffed: the most a run can cost if every profile were new to the destination.
 * Answers the on-demand request at once; planning replaces it with the exact figure.
 */
export const upperBoundEstimate = (
  segmentSizes: readonly number[],
  membership: MembershipMode,
  costs: CostModel,
  capability: BulkMembership,
  ratePerSecond: number,
): RequestEstimate => {
  const profiles = segmentSizes.reduce((a, b) => a + b, 0);
  const rates = { ratePerSecond, documentedRatePerSecond: costs.documentedRatePerSecond };
  // Field and tag mode: one bulk entry per contact, whatever it joins.
  if (membership !== 'list') {
    const bulk = Math.ceil(profiles / costs.bulkLimit);
    return buildEstimate({ bulkUpsert: bulk }, profiles / costs.bulkLimit, rates, true);
  }
  if (costs.listJoinInBulk(capability)) {
    const bulk = segmentSizes.reduce((a, s) => a + Math.ceil(s / costs.bulkLimit), 0);
    return buildEstimate({ bulkUpsertWithList: bulk }, profiles / costs.bulkLimit, rates, true);
  }
  return buildEstimate({ upsertWithList: profiles }, profiles, rates, true);
};
