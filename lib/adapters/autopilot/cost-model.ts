import type { BulkMembership, CostModel } from '#lib/domain/costs.ts';
import { AUTOPILOT_BULK_LIMIT } from './client.ts';

/** Autopilot's documented budget per API key (docs/autopilot-api.md#limits). */
export const AUTOPILOT_DOCUMENTED_RATE = 5;

/**
 * Autopilot v1 prices (docs/architecture.md#cost-model): 100 contacts per bulk upsert; a list join
 * rides on the bulk upsert only where the connection's probe found `_autopilot_list` honoured; every
 * leave is one call; 5 requests/s per key is the documented budget (docs/autopilot-api.md#limits).
 */
export const autopilotCosts: CostModel = {
  bulkLimit: AUTOPILOT_BULK_LIMIT,
  documentedRatePerSecond: AUTOPILOT_DOCUMENTED_RATE,
  listJoinInBulk: (capability: BulkMembership): boolean => capability === 'supported',
  listLeaveInBulk: false,
};
