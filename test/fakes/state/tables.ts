import type { BatchState, ErrorSample } from '#lib/domain/batch.ts';
import type { Connection } from '#lib/domain/connection.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { ListMapping } from '#lib/ports/list-registry.ts';
import type { RefreshStatus, SegmentRefresh } from '#lib/ports/refreshes.ts';
import type { StoredSnapshot } from './snapshots.ts';

/**
 * What the in-memory role ports share, as the DynamoDB ones share one table: the batch ledger and the
 * plan ledger update run records the runs port created, as they update one item in DynamoDB.
 */
export class Tables {
  readonly connections = new Map<string, Connection>();
  readonly exports = new Map<string, ExportRecord>();
  readonly runs = new Map<string, RunRecord>();
  readonly batches = new Map<string, Map<number, BatchState>>();
  readonly batchLeases = new Map<string, { holder: string; until: string }>();
  readonly samples = new Map<string, (ErrorSample & { sortKey: string })[]>();
  readonly checkpoints = new Map<string, string[]>();
  /** Per export: the stored snapshot (base and logs), as the DynamoDB adapter keeps it, uncompressed. */
  readonly snapshots = new Map<string, StoredSnapshot>();
  /** exportId → segmentId → listId */
  readonly snapshotListIds = new Map<string, Record<string, string>>();
  readonly lists = new Map<string, ListMapping>();
  /** JSON [connectionId, kind, name] → owning export */
  readonly targets = new Map<string, string>();
  /** refreshId → the refresh as first recorded, its follow-up lease and whether it is settled */
  readonly refreshes = new Map<string, RefreshStatus & { lease?: { holder: string; until: string } }>();
  /** segmentId → refreshId → that complete refresh's facts of the segment */
  readonly refreshesBySegment = new Map<string, Map<string, SegmentRefresh>>();

  mustRun(id: string): RunRecord {
    const r = this.runs.get(id);
    if (!r) throw new Error(`Run ${id} does not exist`);
    return r;
  }
}

export const clone = <T>(value: T): T => structuredClone(value);

/** Sets the defined fields of `patch` on `target` (undefined leaves a field as it is, like DynamoDB SET). */
export const assignDefined = <T extends object>(target: T, patch: Partial<T>): void => {
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  }
};
