import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type AsyncBuffer, asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from 'hyparquet';
import { parseCsvRecord } from '#lib/adapters/segments/csv.ts';
import { scanChunks } from '#lib/adapters/segments/record-scanner.ts';
import type { RefreshFileFormat } from '#lib/domain/refresh-manifest.ts';

/** The bytes of one file to drop, as stored (gzip-compressed when `gzip`). */
export type DropBody = { path: string } | { bytes: Uint8Array };

export interface DropFile {
  /** Its name inside the refresh folder. */
  key: string;
  format: RefreshFileFormat;
  gzip: boolean;
  body: DropBody;
  /** What error messages call it (the local path, or the key). */
  label: string;
}

export interface FileFacts {
  /** Data rows as the S3 source counts them: every non-blank record, readable or not, but a CSV header. */
  rows: number;
  /** Columns or keys besides the id field; undefined when there are too many to declare. */
  attributes: string[] | undefined;
}

/** A file that cannot become part of a refresh; the message names the file and the reason. */
export class DropFileError extends Error {
  override readonly name = 'DropFileError';
}

/** More than the manifest may declare: the segment is then listed without attributes. */
export const MAX_ATTRIBUTES = 1000;

export const openBody = (body: DropBody): Readable =>
  'path' in body ? createReadStream(body.path) : Readable.from([body.bytes]);

const decoded = (file: DropFile): Readable => {
  const raw = openBody(file.body);
  if (!file.gzip) return raw;
  const inflated = raw.pipe(createGunzip());
  raw.once('error', (error) => inflated.destroy(error));
  inflated.once('close', () => raw.destroy());
  return inflated;
};

/**
 * Reads a CSV or JSONL file once, as the S3 source will (the same record scanner): its row count,
 * and its attributes (the CSV header; for JSONL the keys of every row). A file without the id field
 * is refused: every row of it would be skipped.
 */
const textFacts = async (file: DropFile, idField: string): Promise<FileFacts> => {
  const csv = file.format === 'csv';
  let header: string[] | undefined;
  let records = 0;
  let idSeen = false;
  const keys = new Set<string>();
  const stream = decoded(file);
  try {
    await scanChunks(
      stream[Symbol.asyncIterator](),
      csv ? 'csv' : 'jsonl',
      { offset: 0, line: 1 },
      (record) => {
        records++;
        if (record.broken) {
          if (csv && header === undefined) throw new DropFileError(`${file.label}: header ${record.broken}`);
          return true;
        }
        if (csv) {
          if (header === undefined) header = csvHeader(file, record.buf, record.start, record.end, idField);
          return true;
        }
        try {
          const value: unknown = JSON.parse(record.buf.toString('utf8', record.start, record.end));
          if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
            for (const key of Object.keys(value)) if (keys.size <= MAX_ATTRIBUTES) keys.add(key);
            if (Object.hasOwn(value, idField)) idSeen = true;
          }
        } catch {
          // A malformed row is the pipeline's to skip and count, with its line number.
        }
        return true;
      },
    );
  } catch (error) {
    if (error instanceof DropFileError) throw error;
    if ((error as { code?: string }).code?.startsWith('Z_'))
      throw new DropFileError(`${file.label}: not valid gzip (${(error as Error).message})`);
    throw error;
  } finally {
    stream.destroy();
  }
  if (csv) {
    if (header === undefined) throw new DropFileError(`${file.label}: empty (a CSV file needs a header row)`);
    return { rows: records - 1, attributes: header.filter((c) => c !== idField) };
  }
  if (records > 0 && !idSeen) throw new DropFileError(`${file.label}: no row has an "${idField}" field`);
  keys.delete(idField);
  return { rows: records, attributes: keys.size > MAX_ATTRIBUTES ? undefined : [...keys] };
};

const csvHeader = (file: DropFile, buf: Buffer, start: number, end: number, idField: string): string[] => {
  const parsed = parseCsvRecord(buf, start, end);
  if (!parsed.ok) throw new DropFileError(`${file.label}: header row: ${parsed.why}`);
  const header = parsed.fields.map((f) => f.trim());
  const seen = new Set<string>();
  header.forEach((column, i) => {
    if (column === '') throw new DropFileError(`${file.label}: header column ${i + 1} has no name`);
    if (seen.has(column)) throw new DropFileError(`${file.label}: header has "${column}" twice`);
    seen.add(column);
  });
  if (!seen.has(idField)) {
    throw new DropFileError(
      `${file.label}: the header has no "${idField}" column (the profile id; choose another with --id-field)`,
    );
  }
  return header;
};

const bytesBuffer = (bytes: Uint8Array): AsyncBuffer => ({
  byteLength: bytes.byteLength,
  slice: async (start, end) => {
    const copy = bytes.slice(start, end);
    return copy.buffer;
  },
});

const parquetFacts = async (file: DropFile, idField: string): Promise<FileFacts> => {
  const buffer =
    'path' in file.body ? await asyncBufferFromFile(file.body.path) : bytesBuffer(file.body.bytes);
  let columns: string[];
  let rows: number;
  try {
    const metadata = await parquetMetadataAsync(buffer);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
    rows = Number(metadata.num_rows);
  } catch (error) {
    throw new DropFileError(`${file.label}: not a readable Parquet file (${(error as Error).message})`);
  }
  if (!columns.includes(idField)) {
    throw new DropFileError(
      `${file.label}: no "${idField}" column (the profile id; choose another with --id-field)`,
    );
  }
  const attributes = columns.filter((c) => c !== idField);
  return { rows, attributes: attributes.length > MAX_ATTRIBUTES ? undefined : attributes };
};

/** A file's row count and attributes, read locally before anything is uploaded. */
export const fileFacts = (file: DropFile, idField: string): Promise<FileFacts> =>
  file.format === 'parquet' ? parquetFacts(file, idField) : textFacts(file, idField);
