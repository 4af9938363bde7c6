import type { ManifestResult } from '#lib/domain/refresh-manifest.ts';
import type { RefreshSegmentFacts } from './refreshes.ts';

/**
 * Reads what an arriving refresh holds (its folder in S3 in AWS). A problem with the refresh itself
 * (a malformed manifest, a missing or unreadable file, declared rows or checksums that disagree) is
 * answered, naming the field or file, because retrying cannot fix it; a store that cannot be reached
 * right now throws, so the arrival is retried.
 */
export interface RefreshReader {
  /** The folder's manifest, validated. */
  manifest(refreshId: string): Promise<ManifestResult>;
  /** Every declared `rows` and `sha256` checked against the files: each disagreement, or none. */
  verify(refreshId: string): Promise<string[]>;
  /** Each segment's profile count and attributes, or what kept them from being read. */
  facts(
    refreshId: string,
  ): Promise<{ ok: true; segments: RefreshSegmentFacts[] } | { ok: false; problems: string[] }>;
}
