import type { BulkMembership, CostModel } from '#lib/domain/plan.ts';
import { AUTOPILOT_BULK_LIMIT } from './client.ts';

/**
 * Autopilot v1 prices (DESIGN.md §2): 100 contacts per bulk upsert; a list join rides on the bulk
 * upsert only where the connection's probe found `_autopilot_list` honoured; every leave is one call.
 */
export const autopilotCosts: CostModel = {
  bulkLimit: AUTOPILOT_BULK_LIMIT,
  listJoinInBulk: (capability: BulkMembership): boolean => capability === 'supported',
  listLeaveInBulk: false,
};
