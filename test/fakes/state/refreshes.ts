import type { RefreshEntry, Refreshes, RefreshStatus, SegmentRefresh } from '#lib/ports/refreshes.ts';
import { clone, type Tables } from './tables.ts';

/** The order DynamoDB gives the ledger's sort keys: the instant, then the refresh id, as UTF-8 bytes. */
const sortKey = (r: SegmentRefresh): Buffer =>
  Buffer.from(`${new Date(r.createdAt).toISOString()}#${r.refreshId}`);

/** `Refreshes` in memory: one record per refresh id, and per segment the complete refreshes holding it. */
export class InMemoryRefreshes implements Refreshes {
  constructor(private readonly t: Tables) {}

  async record(refresh: RefreshEntry): Promise<'new' | 'seen'> {
    if (this.t.refreshes.has(refresh.refreshId)) return 'seen';
    const { refreshId, arrivedAt } = refresh;
    if (refresh.outcome === 'rejected') {
      this.t.refreshes.set(refreshId, {
        refreshId,
        outcome: 'rejected',
        ...(refresh.createdAt === undefined ? {} : { createdAt: refresh.createdAt }),
        arrivedAt,
        segmentIds: [],
        reasons: [...refresh.reasons],
      });
      return 'new';
    }
    const { createdAt, segments } = refresh;
    this.t.refreshes.set(refreshId, {
      refreshId,
      outcome: 'complete',
      createdAt,
      arrivedAt,
      segmentIds: segments.map((s) => s.id),
    });
    for (const segment of segments) {
      const held = this.t.refreshesBySegment.get(segment.id) ?? new Map<string, SegmentRefresh>();
      held.set(refreshId, clone({ refreshId, createdAt, segment }));
      this.t.refreshesBySegment.set(segment.id, held);
    }
    return 'new';
  }

  async get(refreshId: string): Promise<RefreshStatus | undefined> {
    const stored = this.t.refreshes.get(refreshId);
    if (stored === undefined) return undefined;
    const { lease: _lease, ...status } = clone(stored);
    return status;
  }

  async lease(refreshId: string, holder: string, now: string, until: string): Promise<boolean> {
    const stored = this.t.refreshes.get(refreshId);
    if (stored === undefined || stored.settledAt !== undefined) return false;
    const held = stored.lease;
    if (held !== undefined && !(held.until < now) && held.holder !== holder) return false;
    stored.lease = { holder, until };
    return true;
  }

  async settle(refreshId: string, at: string): Promise<void> {
    const stored = this.t.refreshes.get(refreshId);
    if (stored === undefined) return;
    stored.settledAt ??= at;
    delete stored.lease;
  }

  async newestFor(segmentId: string): Promise<SegmentRefresh | undefined> {
    let newest: SegmentRefresh | undefined;
    for (const r of this.t.refreshesBySegment.get(segmentId)?.values() ?? []) {
      if (newest === undefined || Buffer.compare(sortKey(r), sortKey(newest)) > 0) newest = r;
    }
    return newest && clone(newest);
  }

  async latestSegments(): Promise<SegmentRefresh[]> {
    const ids = [...this.t.refreshesBySegment.keys()].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    const out: SegmentRefresh[] = [];
    for (const id of ids) {
      const newest = await this.newestFor(id);
      if (newest) out.push(newest);
    }
    return out;
  }
}
