import type { S3Client } from '@aws-sdk/client-s3';
import { type FileMetaData, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { malformed, SegmentSourceConfigError } from './errors.ts';
import { headObject, ObjectChangedError, recentSlices, s3AsyncBuffer } from './s3-objects.ts';
import { PARQUET_COMPRESSORS, readableCodecs, unreadableCodec } from './s3-parquet-codecs.ts';
import { type ColumnRows, flatColumnNames, ParquetPageReader } from './s3-parquet-pages.ts';
import type { FileReadResult } from './s3-text-file.ts';

/** Slices kept per open Parquet file: the footer, and for a nested schema the row groups a page touches. */
const SLICE_CACHE_BYTES = 32 * 1024 * 1024;

export interface ParquetFile {
  etag: string;
  metadata: FileMetaData;
  /** Slices kept for the next read (the footer, and nested schemas' row groups). */
  file: ReturnType<typeof s3AsyncBuffer>;
  /** Every slice from S3: the page reader keeps its own windows. */
  raw: ReturnType<typeof s3AsyncBuffer>;
  /** Where the last page of a flat file stopped, ready to go on without refetching or decoding again. */
  pages?: ParquetPageReader;
}

/**
 * Opens a Parquet object: one HEAD and the footer. A file of flat columns is then read page by
 * page (s3-parquet-pages.ts), holding a window of each column, never a row group; one with nested
 * columns through hyparquet's row reader, which holds the column chunks of the row groups a page
 * touches.
 */
export const openParquet = async (
  client: S3Client,
  bucket: string,
  key: string,
  ifMatch?: string,
): Promise<ParquetFile> => {
  const { etag, size } = await headObject(client, bucket, key);
  if (ifMatch !== undefined && etag !== ifMatch) throw new ObjectChangedError(key);
  const raw = s3AsyncBuffer(client, bucket, key, size, etag);
  const file = recentSlices(raw, SLICE_CACHE_BYTES);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    if (error instanceof ObjectChangedError) throw error;
    throw new SegmentSourceConfigError(
      `s3://${bucket}/${key} is not a readable Parquet file: ${(error as Error).message}`,
    );
  }
  const unreadable = unreadableCodec(metadata);
  if (unreadable) {
    throw new SegmentSourceConfigError(
      `s3://${bucket}/${key}: column "${unreadable.column}" is compressed with ${unreadable.codec}, which the Parquet reader cannot decompress (it reads ${readableCodecs()})`,
    );
  }
  return { etag, metadata, file, raw };
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

/** Rows `[from, end)`: a flat file page by page, a nested one through hyparquet's row reader. */
const readRows = async (parquet: ParquetFile, from: number, end: number): Promise<ColumnRows> => {
  const names = flatColumnNames(parquet.metadata);
  if (names) {
    // Taken before any await: a concurrent read of the same file starts a reader of its own.
    const ahead = parquet.pages;
    parquet.pages = undefined;
    const reader = ahead?.next === from ? ahead : new ParquetPageReader(parquet.raw, parquet.metadata, from);
    const rows = await reader.read(end - from);
    if (reader.next < Number(parquet.metadata.num_rows)) parquet.pages = reader;
    return rows;
  }
  const objects = await parquetReadObjects({
    file: parquet.file,
    metadata: parquet.metadata,
    rowStart: from,
    rowEnd: end,
    compressors: PARQUET_COMPRESSORS,
  });
  const columns = parquetColumns(parquet.metadata);
  return { names: columns, columns: columns.map((c) => objects.map((row) => row[c])) };
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
  const { names, columns } = await readRows(parquet, from, end);
  const idColumn = columns[names.indexOf(idField)];
  for (let i = 0; i < end - from; i++) {
    const id = plain(idColumn?.[i]);
    if ((typeof id !== 'string' || id.trim() === '') && (typeof id !== 'number' || !Number.isFinite(id))) {
      const why = id === undefined || id === null || id === '' ? 'missing' : 'not a string or number';
      page.skipped.push({
        profileId: `${label}:row:${from + i + 1}`,
        reason: malformed(`id field "${idField}" ${why}`),
      });
      continue;
    }
    const attributes: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) {
      const v = (columns[c] as unknown[])[i];
      if (v !== null && v !== undefined && columns[c] !== idColumn) attributes[names[c] as string] = plain(v);
    }
    page.profiles.push({ id: String(id), attributes });
  }
  if (end >= total) return { result: { done: true }, rows: end - from };
  return {
    result: { done: false, at: { offset: end, line: end + 1 }, etag: parquet.etag },
    rows: end - from,
  };
};
