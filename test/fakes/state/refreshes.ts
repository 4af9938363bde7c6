import type { RefreshEntry, Refreshes } from '#lib/ports/refreshes.ts';
import { clone, type Tables } from './tables.ts';

/** The order DynamoDB gives the ledger's sort keys: the instant, then the refresh id, as UTF-8 bytes. */
const sortKey = (createdAt: string, refreshId: string): Buffer =>
  Buffer.from(`${new Date(createdAt).toISOString()}#${refreshId}`);

/** `Refreshes` in memory: one record per refresh id, and per segment the refreshes holding it. */
export class InMemoryRefreshes implements Refreshes {
  constructor(private readonly t: Tables) {}

  async record(refresh: RefreshEntry): Promise<'new' | 'seen'> {
    if (this.t.refreshes.has(refresh.refreshId)) return 'seen';
    this.t.refreshes.set(refresh.refreshId, clone({ ...refresh, segmentIds: [...refresh.segmentIds] }));
    for (const segmentId of refresh.segmentIds) {
      const held = this.t.refreshesBySegment.get(segmentId) ?? new Map<string, string>();
      held.set(refresh.refreshId, refresh.createdAt);
      this.t.refreshesBySegment.set(segmentId, held);
    }
    return 'new';
  }

  async newestFor(segmentId: string): Promise<{ refreshId: string; createdAt: string } | undefined> {
    let newest: { refreshId: string; createdAt: string; key: Buffer } | undefined;
    for (const [refreshId, createdAt] of this.t.refreshesBySegment.get(segmentId) ?? []) {
      const key = sortKey(createdAt, refreshId);
      if (newest === undefined || Buffer.compare(key, newest.key) > 0) newest = { refreshId, createdAt, key };
    }
    return newest && { refreshId: newest.refreshId, createdAt: newest.createdAt };
  }
}
