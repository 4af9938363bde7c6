/** Whether a connection's bulk upserts honour a list assignment, as last probed. */
export type BulkMembership = 'supported' | 'unsupported' | 'unknown';

/**
 * What a connection's bulk membership is known to be now: an answer older than `recheckMs` counts
 * as unknown, so the next bulk batch probes again.
 */
export const capabilityAt = (
  bulkMembership: { state: BulkMembership; checkedAt?: string | undefined },
  now: number,
  recheckMs: number,
): BulkMembership => {
  const { state, checkedAt } = bulkMembership;
  if (state === 'unknown' || checkedAt === undefined || now - Date.parse(checkedAt) > recheckMs)
    return 'unknown';
  return state;
};

/**
 * What a destination charges, in requests, for each kind of operation. The planner asks this
 * instead of assuming Autopilot's prices.
 */
export interface CostModel {
  /** Most contacts in one bulk upsert. */
  readonly bulkLimit: number;
  /** The request budget per API key the destination documents (a new connection's default). */
  readonly documentedRatePerSecond: number;
  /** Whether joining a list can ride on a bulk upsert, given what the connection's probe found. */
  listJoinInBulk(capability: BulkMembership): boolean;
  /** Whether leaving a list can be done for many contacts in one request. */
  readonly listLeaveInBulk: boolean;
}

export type RequestKind = 'bulkUpsert' | 'bulkUpsertWithList' | 'upsertWithList' | 'listRemove';

export const addRequests = (
  into: Partial<Record<string, number>>,
  more: Partial<Record<string, number>>,
): Partial<Record<string, number>> => {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + (v ?? 0);
  return into;
};

export const totalRequests = (byKind: Partial<Record<string, number>>): number =>
  Object.values(byKind).reduce<number>((a, b) => a + (b ?? 0), 0);

/** Seconds the requests take at the rate budget; the floor no exporter can beat. */
export const durationSeconds = (requests: number, ratePerSecond: number): number =>
  ratePerSecond > 0 ? requests / ratePerSecond : Number.POSITIVE_INFINITY;
