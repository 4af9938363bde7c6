import type { S3Client } from '@aws-sdk/client-s3';
import { type FileMetaData, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { malformed, SegmentSourceConfigError } from './errors.ts';
import { headObject, ObjectChangedError, recentSlices, s3AsyncBuffer } from './s3-objects.ts';
import type { FileReadResult } from './s3-text-file.ts';

/** Column chunks kept per open Parquet file, for the next page in the same row groups. */
const SLICE_CACHE_BYTES = 32 * 1024 * 1024;

export interface ParquetFile {
  etag: string;
  metadata: FileMetaData;
  file: ReturnType<typeof s3AsyncBuffer>;
}

/**
 * Opens a Parquet object: one HEAD and the footer. Later reads fetch only the column chunks of the
 * row groups a page touches, so memory is bounded by the row group size, not the file.
 */
export const openParquet = async (
  client: S3Client,
  bucket: string,
  key: string,
  ifMatch?: string,
): Promise<ParquetFile> => {
  const { etag, size } = await headObject(client, bucket, key);
  if (ifMatch !== undefined && etag !== ifMatch) throw new ObjectChangedError(key);
  const file = recentSlices(s3AsyncBuffer(client, bucket, key, size, etag), SLICE_CACHE_BYTES);
  try {
    return { etag, metadata: await parquetMetadataAsync(file), file };
  } catch (error) {
    if (error instanceof ObjectChangedError) throw error;
    throw new SegmentSourceConfigError(
      `s3://${bucket}/${key} is not a readable Parquet file: ${(error as Error).message}`,
    );
  }
};

/** Top-level column names, in schema order. */
export const parquetColumns = (metadata: FileMetaData): string[] =>
  parquetSchema(metadata).children.map((c) => c.element.name);

/** A Parquet value as a profile attribute: 64-bit integers and dates become JSON-safe. */
const plain = (value: unknown): unknown => {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
};

/** Reads rows `[from, from + limit)` of a Parquet file into `page`; a row without an id is a skip `<key>:row:<n>`. */
export const readParquetRows = async (
  parquet: ParquetFile,
  idField: string,
  from: number,
  limit: number,
  page: SegmentPage,
  label: string,
): Promise<{ result: FileReadResult; rows: number }> => {
  const total = Number(parquet.metadata.num_rows);
  if (from >= total) return { result: { done: true }, rows: 0 };
  const end = Math.min(total, from + limit);
  if (end === from)
    return { result: { done: false, at: { offset: from, line: from + 1 }, etag: parquet.etag }, rows: 0 };
  const rows = await parquetReadObjects({
    file: parquet.file,
    metadata: parquet.metadata,
    rowStart: from,
    rowEnd: end,
    compressors,
  });
  rows.forEach((row, i) => {
    const { [idField]: rawId, ...rest } = row;
    const id = plain(rawId);
    if ((typeof id !== 'string' || id.trim() === '') && (typeof id !== 'number' || !Number.isFinite(id))) {
      const why = id === undefined || id === null || id === '' ? 'missing' : 'not a string or number';
      page.skipped.push({
        profileId: `${label}:row:${from + i + 1}`,
        reason: malformed(`id field "${idField}" ${why}`),
      });
      return;
    }
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) attributes[k] = plain(v);
    page.profiles.push({ id: String(id), attributes });
  });
  if (end >= total) return { result: { done: true }, rows: rows.length };
  return {
    result: { done: false, at: { offset: end, line: end + 1 }, etag: parquet.etag },
    rows: rows.length,
  };
};
