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
   * Segments whose membership becomes uncertain: a join or leave is about to be attempted (or was,
   * and its outcome is unknown). A later accepted join or leave makes it certain again.
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
