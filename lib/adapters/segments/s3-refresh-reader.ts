import type { S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '#lib/domain/errors.ts';
import {
  MANIFEST_MAX_BYTES,
  type ManifestResult,
  parseRefreshManifest,
} from '#lib/domain/refresh-manifest.ts';
import type { RefreshReader } from '#lib/ports/refresh-reader.ts';
import type { RefreshSegmentFacts } from '#lib/ports/refreshes.ts';
import { boundAttributeNames } from './attribute-names.ts';
import { RefreshManifestMismatchError } from './errors.ts';
import { refreshPrefix } from './s3-manifest.ts';
import { readSmallObject } from './s3-objects.ts';
import { S3SegmentSource } from './s3-segment-source.ts';

export interface S3RefreshReaderOptions {
  client: S3Client;
  bucket: string;
  /** Attribute holding the profile id (default `id`), as the segment source reads it. */
  idField?: string;
}

/** Segments described at once (each may read the head of a file, or count an undeclared one). */
const FACTS_CONCURRENCY = 8;

/**
 * `RefreshReader` over refresh folders in S3 (docs/architecture.md#refresh-arrival). A problem of
 * the refresh itself (a `PermanentError`: malformed manifest, missing file, bad gzip or Parquet,
 * declared rows or sha256 that disagree) is answered; anything else (S3 unavailable, a network
 * failure, a missing permission) is thrown for the arrival to be retried. Each call reads afresh.
 */
export class S3RefreshReader implements RefreshReader {
  constructor(private readonly options: S3RefreshReaderOptions) {}

  async manifest(refreshId: string): Promise<ManifestResult> {
    const { client, bucket } = this.options;
    try {
      const key = `${refreshPrefix(refreshId)}manifest.json`;
      return parseRefreshManifest(await readSmallObject(client, bucket, key, MANIFEST_MAX_BYTES), refreshId);
    } catch (error) {
      return { ok: false, problems: [permanentProblem(error)] };
    }
  }

  async verify(refreshId: string): Promise<string[]> {
    const source = this.source(refreshId);
    try {
      await source.verify();
      return [];
    } catch (error) {
      if (error instanceof RefreshManifestMismatchError) return error.mismatches;
      return [permanentProblem(error)];
    } finally {
      source.close();
    }
  }

  async facts(
    refreshId: string,
  ): Promise<{ ok: true; segments: RefreshSegmentFacts[] } | { ok: false; problems: string[] }> {
    const read = await this.manifest(refreshId);
    if (!read.ok) return read;
    const ids = read.manifest.segments.map((s) => s.id);
    const source = this.source(refreshId);
    const segments: RefreshSegmentFacts[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < ids.length; i = next++) {
        const info = await source.getSegment(ids[i] as string);
        if (info === undefined) throw new Error(`segment ${ids[i]} left the manifest it was listed in`);
        segments[i] = {
          id: info.id,
          name: info.name,
          profiles: info.profiles,
          attributes: boundAttributeNames(info.attributes ?? [], this.options.idField ?? 'id'),
        };
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(FACTS_CONCURRENCY, ids.length) }, worker));
      return { ok: true, segments };
    } catch (error) {
      return { ok: false, problems: [permanentProblem(error)] };
    } finally {
      source.close();
    }
  }

  private source(refreshId: string): S3SegmentSource {
    return new S3SegmentSource({ ...this.options, refreshId });
  }
}

/** The refresh's own problem, in words; any other failure is rethrown for a retry. */
const permanentProblem = (error: unknown): string => {
  if (error instanceof PermanentError) return error.message;
  throw error;
};
