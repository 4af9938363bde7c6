import type { RefreshSegment } from '#lib/domain/refresh-manifest.ts';
import type { SegmentInfo } from '#lib/ports/segment-source.ts';
import { parseCsvRecord } from './csv.ts';
import { scanChunks } from './record-scanner.ts';
import { openParquet, parquetColumns } from './s3-parquet-file.ts';
import { openText, type S3FileRef } from './s3-text-file.ts';

/** JSONL rows looked at to name a segment's attributes when the manifest does not list them. */
const ATTRIBUTE_SAMPLE_ROWS = 20;

/**
 * Data rows in a file as the manifest counts them: every non-blank record, readable or not,
 * except a CSV header. Parquet reads it from the footer; CSV/JSONL need one full streamed read.
 */
export const countRows = async (ref: S3FileRef): Promise<number> => {
  if (ref.file.format === 'parquet') {
    return Number((await openParquet(ref.client, ref.bucket, ref.key)).metadata.num_rows);
  }
  const { chunks, close } = await openText(ref, 0);
  let records = 0;
  try {
    await scanChunks(chunks, ref.file.format as 'csv' | 'jsonl', { offset: 0, line: 1 }, () => {
      records++;
      return true;
    });
  } finally {
    close();
  }
  return ref.file.format === 'csv' ? Math.max(0, records - 1) : records;
};

/**
 * Attribute names a file offers besides the id: the CSV header, the keys of the first JSONL rows,
 * or the Parquet schema's top-level columns.
 */
export const attributesOf = async (ref: S3FileRef, idField: string): Promise<string[]> => {
  const names = new Set<string>();
  if (ref.file.format === 'parquet') {
    for (const c of parquetColumns((await openParquet(ref.client, ref.bucket, ref.key)).metadata))
      names.add(c);
  } else {
    const csv = ref.file.format === 'csv';
    const { chunks, close } = await openText(ref, 0);
    let seen = 0;
    try {
      await scanChunks(chunks, csv ? 'csv' : 'jsonl', { offset: 0, line: 1 }, (record) => {
        if (record.broken) return true;
        if (csv) {
          const parsed = parseCsvRecord(record.buf, record.start, record.end);
          if (parsed.ok) for (const f of parsed.fields) if (f.trim() !== '') names.add(f.trim());
          return false;
        }
        try {
          const value: unknown = JSON.parse(record.buf.toString('utf8', record.start, record.end));
          if (value && typeof value === 'object' && !Array.isArray(value))
            for (const k of Object.keys(value)) names.add(k);
        } catch {
          // A malformed row names nothing; the page that reads it reports it.
        }
        return ++seen < ATTRIBUTE_SAMPLE_ROWS;
      });
    } finally {
      close();
    }
  }
  names.delete(idField);
  return [...names];
};

/** A segment's info: manifest counts and attributes when declared, else what its files show. */
export const describeSegment = async (
  segment: RefreshSegment,
  refs: S3FileRef[],
  idField: string,
): Promise<SegmentInfo> => {
  let profiles = 0;
  for (const ref of refs) profiles += ref.file.rows ?? (await countRows(ref));
  const attributes = segment.attributes ?? (refs[0] ? await attributesOf(refs[0], idField) : []);
  return { id: segment.id, name: segment.name, profiles, attributes };
};
