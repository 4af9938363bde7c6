/** One refresh as the ledger keeps it: which segments it holds, when it was made and when it arrived. */
export interface RefreshEntry {
  refreshId: string;
  /** The manifest's `createdAt` (ISO 8601, any offset). */
  createdAt: string;
  segmentIds: readonly string[];
  /** When the exporter first saw the manifest (ISO 8601). */
  arrivedAt: string;
}

/**
 * The ledger of refreshes that have arrived (DynamoDB in AWS), so a drop starts its runs once however
 * often its manifest is uploaded or its event delivered (docs/architecture.md#refresh-arrival).
 */
export interface Refreshes {
  /**
   * Records the refresh once: `new` the first time its id is seen, `seen` for any later call with the
   * same id (whatever else it carries; the first record stands).
   */
  record(refresh: RefreshEntry): Promise<'new' | 'seen'>;
  /**
   * The recorded refresh holding the segment with the latest `createdAt` (compared as instants,
   * to the millisecond; ties go to the greater `refreshId`), or undefined when none holds it.
   */
  newestFor(segmentId: string): Promise<{ refreshId: string; createdAt: string } | undefined>;
}
