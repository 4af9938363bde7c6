import type { S3Client } from '@aws-sdk/client-s3';
import type { Refreshes, SegmentRefresh } from '#lib/ports/refreshes.ts';
import type { SegmentInfo, SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';
import { checkLimit } from './cursor.ts';
import { InvalidSegmentCursorError, SegmentNotFoundError } from './errors.ts';
import { refreshOfS3Cursor } from './s3-cursor.ts';
import { S3SegmentSource } from './s3-segment-source.ts';

export interface RefreshSegmentSourceOptions {
  client: S3Client;
  bucket: string;
  refreshes: Pick<Refreshes, 'get' | 'newestFor' | 'latestSegments'>;
  /** Attribute holding the profile id (default `id`). */
  idField?: string;
  /** Refresh folders kept open at once (default 4): a run reads a few segments, one after another. */
  cacheSize?: number;
  /** Epoch ms; the system clock by default. */
  now?: () => number;
}

/**
 * A source kept between Lambda invocations may hold the body its last page stopped in. Idle longer
 * than this (the environment may have been frozen meanwhile) it is let go and the next page opens
 * a fresh ranged read, rather than resuming on a connection S3 may have closed.
 */
export const IDLE_BODY_MS = 15_000;

const infoOf = ({ segment }: SegmentRefresh): SegmentInfo => ({
  id: segment.id,
  name: segment.name,
  profiles: segment.profiles,
  attributes: [...segment.attributes],
});

/**
 * The segments of the S3 refresh folders (docs/architecture.md#segment-sources): each segment as its
 * newest complete refresh holds it. Counts and attributes come from the refresh ledger, where the
 * arrival recorded them once, so listing reads no S3 object. Pages are read from the folder through
 * an `S3SegmentSource`; a cursor carries its refresh id and always continues in that refresh, even
 * after a newer one arrived, so one read never mixes two refreshes.
 */
export class RefreshSegmentSource implements SegmentSource {
  private readonly sources = new Map<string, { source: S3SegmentSource; usedAt: number }>();
  private readonly cacheSize: number;
  private readonly now: () => number;

  constructor(private readonly options: RefreshSegmentSourceOptions) {
    this.cacheSize = Math.max(1, options.cacheSize ?? 4);
    this.now = options.now ?? Date.now;
  }

  async listSegments(): Promise<SegmentInfo[]> {
    return (await this.options.refreshes.latestSegments()).map(infoOf);
  }

  async getSegment(id: string): Promise<SegmentInfo | undefined> {
    const newest = await this.options.refreshes.newestFor(id);
    return newest && infoOf(newest);
  }

  async readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    checkLimit(limit);
    let refreshId: string;
    if (cursor === undefined) {
      const newest = await this.options.refreshes.newestFor(segmentId);
      if (newest === undefined) throw new SegmentNotFoundError(segmentId);
      refreshId = newest.refreshId;
    } else {
      refreshId = refreshOfS3Cursor(cursor, segmentId);
    }
    const source = await this.sourceFor(refreshId, segmentId, cursor);
    return source.readPage(segmentId, cursor, limit);
  }

  /**
   * The open source of a refresh, the most recently used kept first. A cursor naming a refresh the
   * ledger does not hold as complete was not issued here: it must not lead a read into any folder.
   */
  private async sourceFor(refreshId: string, segmentId: string, cursor?: string): Promise<S3SegmentSource> {
    const now = this.now();
    const held = this.sources.get(refreshId);
    if (held) {
      if (now - held.usedAt > IDLE_BODY_MS) held.source.close();
      this.sources.delete(refreshId);
      this.sources.set(refreshId, { source: held.source, usedAt: now });
      return held.source;
    }
    if (cursor !== undefined) {
      const status = await this.options.refreshes.get(refreshId);
      if (status?.outcome !== 'complete') {
        throw new InvalidSegmentCursorError(
          segmentId,
          cursor,
          `refresh "${refreshId}" is not a complete refresh`,
        );
      }
    }
    const source = new S3SegmentSource({
      client: this.options.client,
      bucket: this.options.bucket,
      refreshId,
      ...(this.options.idField === undefined ? {} : { idField: this.options.idField }),
    });
    this.sources.set(refreshId, { source, usedAt: now });
    for (const [id, old] of this.sources) {
      if (this.sources.size <= this.cacheSize) break;
      this.sources.delete(id);
      old.source.close();
    }
    return source;
  }
}
