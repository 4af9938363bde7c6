import type { SourceProfile } from '#lib/domain/contact.ts';

export interface SegmentInfo {
  id: string;
  name: string;
  /** Profiles in the segment, as the source counts them (may lag a running refresh). */
  profiles: number;
  /**
   * Attribute names the segment's profiles carry (a CSV header, JSONL keys seen in the first rows,
   * Parquet columns, or a manifest's list), when the source knows them; the id field is not one.
   */
  attributes?: string[];
}

export interface SegmentPage {
  profiles: SourceProfile[];
  /** Rows the source could not turn into a profile (e.g. a malformed line), each with a reason. */
  skipped: Array<{ profileId: string; reason: string }>;
  /** Opaque; absent on the last page. */
  next?: string;
}

/**
 * Where segments come from (segmentation itself is upstream). Read page by page so no segment size
 * forces everything into memory at once; `cursor` values are opaque and survive serialisation.
 */
export interface SegmentSource {
  listSegments(): Promise<SegmentInfo[]>;
  getSegment(id: string): Promise<SegmentInfo | undefined>;
  readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage>;
}
