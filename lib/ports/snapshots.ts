import type { SnapshotChange, StoredSnapshotEntry } from '#lib/domain/snapshot.ts';

/** Per export, what was last accepted for each contact (DynamoDB in AWS). Drives the diff. */
export interface Snapshots {
  read(exportId: string): AsyncIterable<StoredSnapshotEntry>;
  apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void>;
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
