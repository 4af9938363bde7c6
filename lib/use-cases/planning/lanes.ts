import type { BulkMembership, CostModel } from '#lib/domain/costs.ts';
import { MAX_SEND_LANES } from '#lib/domain/messages.ts';
import type { PlannedBatch } from '#lib/domain/plan.ts';
import { ASSUMED_LATENCY_MS, inFlightLimit } from '../destination-calls.ts';

/**
 * Send lanes per kind of batch for a connection. The send queue is FIFO with a message group per
 * lane, and a group is delivered to one sender at a time. A batch of many requests (one per contact)
 * keeps the budget busy alone, by pipelining them within its delivery: one lane. A batch that is one
 * request (a bulk upsert, an Ortto merge) cannot, so such batches go round as many lanes as requests
 * the budget keeps in flight (rate × answer time + 1): at 10 requests/s, 5 senders each with one
 * request out, instead of one sender waiting ~0.4 s per request for 2.5 requests/s.
 */
export const sendLanes = (
  costs: CostModel,
  capability: BulkMembership,
  ratePerSecond: number,
): Partial<Record<PlannedBatch['op'], number>> => {
  const single = Math.min(MAX_SEND_LANES, inFlightLimit(ratePerSecond, ASSUMED_LATENCY_MS));
  return {
    upsert: single,
    'list-join': costs.listJoinInBulk(capability) ? single : 1,
    'list-leave': costs.listLeaveInBulk ? single : 1,
  };
};
