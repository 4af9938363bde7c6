import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentInfo, SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';

/** Segments held in memory; cursors are offsets, as opaque to callers as the real ones. */
export class InMemorySegmentSource implements SegmentSource {
  private readonly segments = new Map<string, { name: string; profiles: SourceProfile[] }>();
  pagesRead = 0;

  set(id: string, name: string, profiles: SourceProfile[]): this {
    this.segments.set(id, { name, profiles: [...profiles] });
    return this;
  }

  async listSegments(): Promise<SegmentInfo[]> {
    return [...this.segments].map(([id, s]) => ({ id, name: s.name, profiles: s.profiles.length }));
  }

  async getSegment(id: string): Promise<SegmentInfo | undefined> {
    const s = this.segments.get(id);
    return s && { id, name: s.name, profiles: s.profiles.length };
  }

  async readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    this.pagesRead++;
    const s = this.segments.get(segmentId);
    if (s === undefined) throw new Error(`segment ${segmentId} not found`);
    const start = cursor === undefined ? 0 : Number(cursor);
    const profiles = s.profiles.slice(start, start + limit);
    const end = start + profiles.length;
    return { profiles, skipped: [], ...(end < s.profiles.length ? { next: String(end) } : {}) };
  }
}
