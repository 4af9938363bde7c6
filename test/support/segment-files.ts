import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ColumnSource } from 'hyparquet-writer';
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import { encodeCsvRecord } from '#lib/adapters/segments/csv.ts';
import { MultipartWriter } from '#local/s3-multipart.ts';
import { CSV_COLUMNS, type SampleProfile } from '#local/sample-data.ts';

/*
 * Segment files written as they are produced, straight into a multipart upload: CSV or JSONL
 * (gzip optional) and Parquet, from any row iterator (see synthetic-rows.ts).
 */

const csvLine = (row: SampleProfile): string =>
  encodeCsvRecord(CSV_COLUMNS.map((c) => (row[c] === undefined ? '' : String(row[c])))).slice(0, -2);

/**
 * The rows as CSV (header on line 1, CRLF) or JSONL (LF) text in chunks of about 1 MiB.
 * `specials` puts raw text on given physical lines (1-based, the CSV header counts) in place of
 * the next row, to plant malformed rows or blank lines where a test expects them.
 */
function* textChunks(
  format: 'csv' | 'jsonl',
  rows: Iterable<SampleProfile>,
  specials: ReadonlyMap<number, string> = new Map(),
): Generator<Buffer> {
  const eol = format === 'csv' ? '\r\n' : '\n';
  let line = 1;
  let text = '';
  const emit = (content: string): void => {
    text += content + eol;
    line++;
  };
  if (format === 'csv') emit(CSV_COLUMNS.join(','));
  for (const row of rows) {
    for (let special = specials.get(line); special !== undefined; special = specials.get(line)) emit(special);
    emit(format === 'csv' ? csvLine(row) : JSON.stringify(row));
    if (text.length >= 1 << 20) {
      yield Buffer.from(text);
      text = '';
    }
  }
  for (let special = specials.get(line); special !== undefined; special = specials.get(line)) emit(special);
  yield Buffer.from(text);
}

/** `chunks` gzip-compressed, as a stream (level 6, gzip's default, as `gzip` on the command line). */
const gzipped = (chunks: Iterable<Buffer>): AsyncIterable<Buffer> =>
  pipeline(Readable.from(chunks), createGzip(), () => undefined);

const PARQUET_COLUMNS: ReadonlyArray<Omit<ColumnSource, 'data'> & { name: keyof SampleProfile }> = [
  { name: 'id', type: 'STRING', nullable: false },
  { name: 'email', type: 'STRING' },
  { name: 'first_name', type: 'STRING' },
  { name: 'last_name', type: 'STRING' },
  { name: 'company', type: 'STRING' },
  { name: 'city', type: 'STRING' },
  { name: 'country', type: 'STRING' },
  { name: 'plan', type: 'STRING' },
  { name: 'seats', type: 'INT32' },
  { name: 'lifetime_value', type: 'DOUBLE' },
  { name: 'trial', type: 'BOOLEAN' },
  { name: 'signup_date', type: 'STRING' },
  { name: 'updated_at', type: 'STRING' },
];

/** hyparquet-writer's byte writer, emptied into `sink` after every row group. */
class SinkWriter extends ByteWriter {
  constructor(private readonly sink: MultipartWriter) {
    super(1 << 20);
  }
  async flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    await this.sink.write(bytes);
    this.index = 0;
  }
  override async finish(): Promise<void> {
    await this.flush();
  }
}

/**
 * Writes the rows as a Parquet file (Snappy, as Spark and most warehouses write it) into `sink`,
 * `rowGroupRows` rows per row group and data pages of about `pageBytes` (uncompressed), holding one
 * row group at a time.
 */
const writeParquet = async (
  rows: Iterable<SampleProfile>,
  sink: MultipartWriter,
  rowGroupRows: number,
  pageBytes: number,
): Promise<void> => {
  const writer = new SinkWriter(sink);
  let parquet: ParquetWriter | undefined;
  let batch: SampleProfile[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const columnData = PARQUET_COLUMNS.map((c) => ({
      ...c,
      data: batch.map((row) => row[c.name] ?? null),
    }));
    if (!parquet) parquet = new ParquetWriter({ writer, schema: schemaFromColumnData({ columnData }) });
    // With a schema given, the writer refuses per-column types.
    await parquet.write({
      columnData: columnData.map(({ type: _type, nullable: _nullable, ...c }) => c),
      rowGroupSize: rowGroupRows,
      pageSize: pageBytes,
    });
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length === rowGroupRows) await flush();
  }
  await flush();
  if (!parquet) throw new Error('writeParquet: no rows');
  await parquet.finish();
};

export interface SegmentFileOptions {
  format: 'csv' | 'jsonl' | 'parquet';
  gzip?: boolean;
  /** Text formats: raw lines planted by physical line number (see `textChunks`). */
  specials?: ReadonlyMap<number, string>;
  /** Parquet: rows per row group (default 100,000). */
  rowGroupRows?: number;
  /** Parquet: uncompressed bytes per data page (default 1 MiB, as Spark and pyarrow write them). */
  pageBytes?: number;
}

/** Streams `rows` into the object `key` in the given format; returns its size in bytes. */
export const uploadSegmentFile = async (
  s3: S3Client,
  bucket: string,
  key: string,
  rows: Iterable<SampleProfile>,
  options: SegmentFileOptions,
): Promise<number> => {
  const sink = new MultipartWriter(s3, bucket, key);
  try {
    if (options.format === 'parquet') {
      await writeParquet(rows, sink, options.rowGroupRows ?? 100_000, options.pageBytes ?? 1 << 20);
    } else {
      const text = textChunks(options.format, rows, options.specials);
      for await (const chunk of options.gzip ? gzipped(text) : text) await sink.write(chunk);
    }
  } catch (error) {
    await sink.abort();
    throw error;
  }
  await sink.end();
  return sink.bytes;
};
