/** One contact's snapshot change, applied only after the destination accepted the write. */
export interface SnapshotChange {
  key: string;
  /** New content hash; null leaves it as is. */
  hash: string | null;
  /** The address as sent when its case differs from the key. */
  email?: string;
  join: string[];
  leave: string[];
  /**
   * Segments whose membership becomes uncertain: a join or leave was attempted and its outcome is
   * unknown. A later accepted join or leave makes it certain again.
   */
  maybe?: string[];
  /** Drop the contact's hash too: it left every segment. */
  forget: boolean;
}

export interface StoredSnapshotEntry {
  key: string;
  hash: string;
  email?: string;
  /** Segments the contact is certainly on. */
  segmentIds: string[];
  /** Segments whose membership is uncertain (see SnapshotChange.maybe). */
  maybeSegmentIds?: string[];
}

/**
 * One queued batch as the snapshot needs it: for each item, in batch order, the change it makes once
 * the destination accepts it. The planner stages these before it queues the batch; what became of
 * each item is read from the batch ledger afterwards (see {@link settledChanges}).
 */
export interface StagedBatch {
  batchNo: number;
  changes: SnapshotChange[];
}

/** What the batch ledger knows about one batch of a run, for settling its staged changes. */
export interface BatchSettlement {
  /** Items before `next` are recorded. */
  next: number;
  done: boolean;
  /** When the batch was closed: items from here on had no result (dropped, or failed unsent). */
  resultsTo?: number;
  /** Batch positions the destination refused. */
  failed: ReadonlySet<number>;
  /** A delivery took the batch: its unrecorded items may have reached the destination. */
  tried: boolean;
}

/**
 * The snapshot changes one staged batch made, by what the ledger recorded: an item with an accepted
 * result applies its change; an item a delivery may have sent without an accepted result (refused,
 * answer lost, delivery stopped) leaves its joins and leaves uncertain, so the next run asserts what
 * the segment says; an item nobody tried changes nothing. `unknown` (the ledger has expired) treats
 * every item without a record as possibly sent.
 */
export const settledChanges = (
  batch: StagedBatch,
  settlement: BatchSettlement | undefined,
  unknown = false,
): SnapshotChange[] => {
  const tried = settlement?.tried ?? unknown;
  const recordedTo =
    settlement === undefined
      ? 0
      : settlement.done
        ? (settlement.resultsTo ?? settlement.next)
        : settlement.next;
  const out: SnapshotChange[] = [];
  batch.changes.forEach((change, i) => {
    if (i < recordedTo && !settlement?.failed.has(i)) {
      out.push(change);
      return;
    }
    if (!tried) return;
    const maybe = [...change.join, ...change.leave];
    if (maybe.length > 0)
      out.push({ key: change.key, hash: null, join: [], leave: [], maybe, forget: false });
  });
  return out;
};
