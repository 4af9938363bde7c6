import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';

/** Every page of a segment, `limit` rows at a time, as the planner reads it. */
export const readWholeSegment = async (
  source: SegmentSource,
  segmentId: string,
  limit: number,
): Promise<{ profiles: SourceProfile[]; skipped: SegmentPage['skipped'] }> => {
  const profiles: SourceProfile[] = [];
  const skipped: SegmentPage['skipped'] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await source.readPage(segmentId, cursor, limit);
    profiles.push(...page.profiles);
    skipped.push(...page.skipped);
    cursor = page.next;
    if (cursor === undefined) return { profiles, skipped };
  }
  throw new Error(`${segmentId}: more than 100,000 pages`);
};
