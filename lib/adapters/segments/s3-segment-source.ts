import type { S3Client } from '@aws-sdk/client-s3';
import type { RefreshManifest, RefreshSegment } from '#lib/domain/refresh-manifest.ts';
import type { SegmentInfo, SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';
import { checkLimit } from './cursor.ts';
import { InvalidSegmentCursorError, SegmentNotFoundError, SegmentSourceConfigError } from './errors.ts';
import { decodeS3Cursor, encodeS3Cursor } from './s3-cursor.ts';
import { describeSegment } from './s3-file-facts.ts';
import { fetchRefreshManifest, refreshPrefix } from './s3-manifest.ts';
import { ObjectChangedError } from './s3-objects.ts';
import { openParquet, type ParquetFile, readParquetRows } from './s3-parquet-file.ts';
import {
  type FileReadResult,
  type ReadAhead,
  readTextRows,
  type S3FileRef,
  type TextPosition,
} from './s3-text-file.ts';
import { verifyRefresh } from './s3-verify.ts';

export interface S3SegmentSourceOptions {
  client: S3Client;
  bucket: string;
  /** The refresh folder read: `s3://<bucket>/refreshes/<refreshId>/`. */
  refreshId: string;
  /** Attribute holding the profile id (default `id`); it is not repeated in `attributes`. */
  idField?: string;
}

/** Parquet footers kept per source, so consecutive pages of a file do not refetch it. */
const PARQUET_CACHE = 8;

/**
 * A `SegmentSource` over one refresh folder in S3: `refreshes/<refreshId>/manifest.json` names the
 * segments and their CSV, JSONL (optionally gzip) or Parquet files. A refresh folder is treated as
 * immutable; each cursor still carries its file's ETag, so a rewritten file fails the next page
 * loudly. Call `verify()` before sending anything when the manifest declares rows or checksums.
 */
export class S3SegmentSource implements SegmentSource {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly refreshId: string;
  private readonly prefix: string;
  private readonly idField: string;
  private manifest: Promise<RefreshManifest> | undefined;
  private readonly parquet = new Map<string, ParquetFile>();
  private readonly infos = new Map<string, Promise<SegmentInfo>>();
  /** The text body the last page stopped in, so the next page neither refetches nor re-inflates it. */
  private ahead: ReadAhead | undefined;

  constructor(options: S3SegmentSourceOptions) {
    this.prefix = refreshPrefix(options.refreshId);
    this.client = options.client;
    this.bucket = options.bucket;
    this.refreshId = options.refreshId;
    this.idField = options.idField ?? 'id';
  }

  async listSegments(): Promise<SegmentInfo[]> {
    const { segments } = await this.loadManifest();
    return Promise.all(segments.map((s) => this.info(s)));
  }

  async getSegment(id: string): Promise<SegmentInfo | undefined> {
    const segment = (await this.loadManifest()).segments.find((s) => s.id === id);
    return segment && this.info(segment);
  }

  /** Lets go of the body a page stopped in (a holder dropping this source calls it). */
  close(): void {
    const ahead = this.ahead;
    this.ahead = undefined;
    ahead?.text.close();
  }

  /** Fails with a `RefreshManifestMismatchError` when declared rows or sha256 disagree with a file. */
  async verify(): Promise<void> {
    const manifest = await this.loadManifest();
    await verifyRefresh(manifest, (segmentId, i) => this.refOf(segmentId, manifest, i));
  }

  async readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    checkLimit(limit);
    const manifest = await this.loadManifest();
    const segment = manifest.segments.find((s) => s.id === segmentId);
    if (!segment) throw new SegmentNotFoundError(segmentId);
    let f = 0;
    let from: TextPosition = { offset: 0, line: 1 };
    let etag: string | undefined;
    if (cursor !== undefined) {
      const c = decodeS3Cursor(cursor, segmentId, this.refreshId, segment.files.length);
      f = c.f;
      from = { offset: c.o, line: c.n, header: c.h };
      etag = c.e;
      if (segment.files[f]?.format === 'csv' && c.h === undefined) {
        throw new InvalidSegmentCursorError(segmentId, cursor, 'a CSV cursor must carry the header');
      }
    }
    const page: SegmentPage = { profiles: [], skipped: [] };
    let left = limit;
    // With no rows left the loop still opens the next file, so the last page never promises more.
    for (; f < segment.files.length; f++) {
      const ref = this.refOf(segmentId, manifest, f);
      let out: { result: FileReadResult; rows: number };
      try {
        out = await this.readFile(ref, from, left, page, etag);
      } catch (error) {
        if (error instanceof ObjectChangedError && cursor !== undefined) {
          throw new InvalidSegmentCursorError(
            segmentId,
            cursor,
            `${ref.file.key} changed since the cursor was issued`,
          );
        }
        throw error;
      }
      left -= out.rows;
      if (!out.result.done) {
        const { at } = out.result;
        page.next = encodeS3Cursor({
          v: 1,
          s: segmentId,
          r: this.refreshId,
          f,
          o: at.offset,
          n: at.line,
          e: out.result.etag,
          ...(at.header ? { h: at.header } : {}),
        });
        return page;
      }
      from = { offset: 0, line: 1 };
      etag = undefined;
    }
    return page;
  }

  private async readFile(
    ref: S3FileRef,
    from: TextPosition,
    limit: number,
    page: SegmentPage,
    etag: string | undefined,
  ): Promise<{ result: FileReadResult; rows: number }> {
    if (ref.file.format !== 'parquet') {
      // Taken before any await: a concurrent read never sees, or closes, a body in use.
      const ahead = this.ahead;
      this.ahead = undefined;
      const out = await readTextRows(ref, this.idField, from, limit, page, {
        label: ref.file.key,
        ifMatch: etag,
        ahead,
      });
      if (out.ahead) {
        (this.ahead as ReadAhead | undefined)?.text.close();
        this.ahead = out.ahead;
      }
      return out;
    }
    let parquet = this.parquet.get(ref.key);
    if (!parquet || (etag !== undefined && parquet.etag !== etag)) {
      parquet = await openParquet(this.client, this.bucket, ref.key, etag);
      if (this.parquet.size >= PARQUET_CACHE) this.parquet.delete(this.parquet.keys().next().value as string);
      this.parquet.set(ref.key, parquet);
    }
    return readParquetRows(parquet, this.idField, from.offset, limit, page, ref.file.key);
  }

  /**
   * Profiles: the sum of the manifest's `rows` when every file declares them, else counted once per
   * source instance (a full read of each undeclared CSV/JSONL file). Attributes: the manifest's
   * list, else what the segment's first file shows.
   */
  private info(segment: RefreshSegment): Promise<SegmentInfo> {
    let info = this.infos.get(segment.id);
    if (!info) {
      info = this.describe(segment);
      this.infos.set(segment.id, info);
      info.catch(() => this.infos.delete(segment.id));
    }
    return info;
  }

  private async describe(segment: RefreshSegment): Promise<SegmentInfo> {
    const manifest = await this.loadManifest();
    const refs = segment.files.map((_, i) => this.refOf(segment.id, manifest, i));
    return describeSegment(segment, refs, this.idField);
  }

  private refOf(segmentId: string, manifest: RefreshManifest, index: number): S3FileRef {
    const segment = manifest.segments.find((s) => s.id === segmentId) as RefreshSegment;
    const file = segment.files[index];
    if (!file) throw new SegmentSourceConfigError(`Segment "${segmentId}" has no file ${index}`);
    return { client: this.client, bucket: this.bucket, key: `${this.prefix}${file.key}`, file, segmentId };
  }

  private loadManifest(): Promise<RefreshManifest> {
    if (!this.manifest) {
      this.manifest = fetchRefreshManifest(this.client, this.bucket, this.refreshId);
      this.manifest.catch(() => {
        this.manifest = undefined;
      });
    }
    return this.manifest;
  }
}
