import type {
  BatchSettlement,
  SnapshotChange,
  StagedBatch,
  StoredSnapshotEntry,
} from '#lib/domain/snapshot.ts';

/**
 * What a snapshot is stored as, in the order it must be folded: the base's entries, then each log in
 * the order it was written — changes already accepted, a run's staged plan (settled against its
 * batch ledger by the reader), or a segment whose memberships were dropped.
 */
export type SnapshotRecord =
  | { kind: 'entry'; entry: StoredSnapshotEntry }
  | { kind: 'changes'; changes: readonly SnapshotChange[] }
  | {
      kind: 'staged';
      runId: string;
      batches: readonly StagedBatch[];
      /** Once settled: what the ledger recorded for the run, frozen (the ledger itself expires). */
      settlements?: ReadonlyMap<number, BatchSettlement>;
    }
  | { kind: 'drop'; segmentId: string };

export interface SnapshotStats {
  /** Changes whenever the stored snapshot does: a rebase from an older version is refused. */
  version: number;
  baseEntries: number;
  baseBytes: number;
  logBytes: number;
  /** The largest single log: stands for the base's size while there is no base yet. */
  largestLogBytes: number;
  logs: number;
  /** Runs whose staged plans are not settled yet, oldest first. */
  stagedRuns: string[];
}

/** The snapshot changed under a rebase: someone else wrote it since it was read. */
export class SnapshotChangedError extends Error {
  override readonly name = 'SnapshotChangedError';
}

/**
 * Per export, what was last accepted for each contact (DynamoDB in AWS): drives the diff. Stored as a
 * compact base plus logs, so a run writes in proportion to its changes (key design in the adapter's
 * README); one writer at a time (the planner holding the run's planning lease, or a delete).
 */
export interface Snapshots {
  scan(exportId: string): AsyncIterable<SnapshotRecord>;
  stats(exportId: string): Promise<SnapshotStats>;
  /** Appends changes already accepted (drift corrections, repairs). */
  apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void>;
  /**
   * Records what queued batches will change once accepted, before they are queued. Idempotent per
   * batch number: staging a batch again (a resumed planner) replaces nothing it does not repeat.
   */
  stage(exportId: string, runId: string, batches: readonly StagedBatch[]): Promise<void>;
  /**
   * Freezes what the ledger recorded for a run's staged plan, once no delivery can record more: the
   * plan is then read with these settlements, whatever becomes of the ledger.
   */
  settle(exportId: string, runId: string, settlements: ReadonlyMap<number, BatchSettlement>): Promise<void>;
  /**
   * Replaces the base and every log by `entries` (the caller folded all of them, at `version`).
   * Throws SnapshotChangedError when the snapshot changed since.
   */
  rebase(exportId: string, version: number, entries: Iterable<StoredSnapshotEntry>): Promise<void>;
  /** Forgets everything the export sent (its email keys are personal data): used when it is deleted. */
  delete(exportId: string): Promise<void>;
  /** The destination list each segment's remembered memberships refer to (list mode). */
  lists(exportId: string): Promise<Record<string, string>>;
  /**
   * Points a segment's memberships at `listId`. When the list changed (deleted in Autopilot and
   * recreated, or retitled), the memberships remembered for the old list are dropped first: nobody
   * is on a new list yet.
   */
  setList(exportId: string, segmentId: string, listId: string): Promise<void>;
}
