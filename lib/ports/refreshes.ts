/** What an arrival learnt about one segment of a refresh it verified: read once, kept in the ledger. */
export interface RefreshSegmentFacts {
  id: string;
  name: string;
  profiles: number;
  /** Attribute names its profiles carry (without the id field), for the console's data matching. */
  attributes: string[];
}

/** One refresh as an arrival records it: verified and complete, or rejected with the reasons why. */
export type RefreshEntry =
  | {
      refreshId: string;
      outcome: 'complete';
      /** The manifest's `createdAt` (ISO 8601, any offset). */
      createdAt: string;
      /** When the exporter first saw the manifest (ISO 8601). */
      arrivedAt: string;
      segments: RefreshSegmentFacts[];
    }
  | {
      refreshId: string;
      outcome: 'rejected';
      /** Absent when the manifest could not be read far enough to know it. */
      createdAt?: string;
      arrivedAt: string;
      /** Each problem, naming the field or file it concerns. */
      reasons: string[];
    };

/** The ledger's record of a refresh, as `get` answers it. */
export interface RefreshStatus {
  refreshId: string;
  outcome: 'complete' | 'rejected';
  createdAt?: string;
  arrivedAt: string;
  /** The segments of a complete refresh; none for a rejected one. */
  segmentIds: string[];
  reasons?: string[];
  /**
   * When the arrival's follow-up finished: its runs started (complete) or its rejection notified.
   * Absent while it is still to do, or was cut short by a crash.
   */
  settledAt?: string;
}

/** The newest complete refresh holding a segment, with what it held of that segment. */
export interface SegmentRefresh {
  refreshId: string;
  createdAt: string;
  segment: RefreshSegmentFacts;
}

/**
 * The ledger of refreshes that have arrived (DynamoDB in AWS), so a drop starts its runs once however
 * often its manifest is uploaded or its event delivered, and the segment catalog: per segment, its
 * newest complete refresh (docs/architecture.md#refresh-arrival).
 */
export interface Refreshes {
  /**
   * Records the refresh once: `new` the first time its id is seen, `seen` for any later call with the
   * same id (whatever else it carries; the first record stands). Only a complete refresh becomes a
   * segment's refresh (`newestFor`, `latestSegments`); a rejected one never does.
   */
  record(refresh: RefreshEntry): Promise<'new' | 'seen'>;
  get(refreshId: string): Promise<RefreshStatus | undefined>;
  /**
   * Takes the refresh's follow-up for one arrival until `until` (its invocation deadline), so two
   * arrivals of one refresh never start its runs at once. Succeeds when the refresh is recorded and
   * not settled, and no lease is held, the held one ended before `now`, or `holder` already holds it.
   */
  lease(refreshId: string, holder: string, now: string, until: string): Promise<boolean>;
  /** Marks the follow-up done (`settledAt`, kept from the first call) and drops the lease. */
  settle(refreshId: string, at: string): Promise<void>;
  /**
   * The complete refresh holding the segment with the latest `createdAt` (compared as instants, to
   * the millisecond; ties go to the greater `refreshId`), or undefined when none holds it.
   */
  newestFor(segmentId: string): Promise<SegmentRefresh | undefined>;
  /** Every segment's `newestFor` at once (one Query in DynamoDB), ordered by segment id. */
  latestSegments(): Promise<SegmentRefresh[]>;
}
