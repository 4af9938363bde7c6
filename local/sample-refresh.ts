import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodeCsvRecord } from '#lib/adapters/segments/csv.ts';
import type { RefreshFileFormat } from '#lib/domain/refresh-manifest.ts';
import type { DropSegment } from './refresh-drop.ts';
import { CSV_COLUMNS, type SampleDataset, type SampleProfile, sampleSegmentMembers } from './sample-data.ts';

/*
 * The sample segments as a refresh, one segment per format the exporter reads, so the demo drives
 * every reader: the first as gzip CSV, the second as JSONL, the third as Parquet (and so on in turn).
 */

const FORMATS: ReadonlyArray<{ format: RefreshFileFormat; gzip: boolean; ext: string }> = [
  { format: 'csv', gzip: true, ext: 'csv.gz' },
  { format: 'jsonl', gzip: false, ext: 'jsonl' },
  { format: 'parquet', gzip: false, ext: 'parquet' },
];

const cell = (value: SampleProfile[keyof SampleProfile]): string =>
  value === undefined ? '' : String(value);

const csv = (members: SampleProfile[]): Uint8Array =>
  gzipSync(
    encodeCsvRecord(CSV_COLUMNS) +
      members.map((p) => encodeCsvRecord(CSV_COLUMNS.map((c) => cell(p[c])))).join(''),
  );

const jsonl = (members: SampleProfile[]): Uint8Array =>
  Buffer.from(members.map((p) => `${JSON.stringify(p)}\n`).join(''));

/**
 * Every column as text: the sample data mixes numbers with numbers written as strings (as CRM
 * exports do), which one typed Parquet column cannot hold; data matching coerces them as for CSV.
 */
const parquet = (members: SampleProfile[]): Uint8Array =>
  new Uint8Array(
    parquetWriteBuffer({
      columnData: CSV_COLUMNS.map((c) => ({
        name: c,
        data: members.map((p) => (p[c] === undefined ? null : String(p[c]))),
        type: 'STRING' as const,
      })),
    }),
  );

const WRITERS = { csv, jsonl, parquet } as const;

/** The dataset's segments as files of a refresh (in memory: `--profiles` is at most 200,000). */
export const sampleRefreshSegments = (dataset: SampleDataset): DropSegment[] =>
  dataset.segments.map((segment, i) => {
    const kind = FORMATS[i % FORMATS.length] as (typeof FORMATS)[number];
    const members = Array.from(sampleSegmentMembers(dataset, segment.id));
    const key = `${segment.id}.${kind.ext}`;
    return {
      id: segment.id,
      name: segment.name,
      files: [
        {
          key,
          format: kind.format,
          gzip: kind.gzip,
          body: { bytes: WRITERS[kind.format](members) },
          label: `sample ${key}`,
        },
      ],
    };
  });
