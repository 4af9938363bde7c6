import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RefreshFile } from '#lib/domain/refresh-manifest.ts';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { SegmentSourceConfigError } from './errors.ts';
import { csvRow, jsonRow, parseHeader } from './file-rows.ts';
import { type RawRecord, type RecordPosition, scanChunks } from './record-scanner.ts';
import { decoded, openObject } from './s3-objects.ts';

export interface S3FileRef {
  client: S3Client;
  bucket: string;
  /** Full object key. */
  key: string;
  file: RefreshFile;
  segmentId: string;
}

export interface TextPosition extends RecordPosition {
  header?: string[];
}

export type FileReadResult = { done: true } | { done: false; at: TextPosition; etag: string };

/** An open CSV/JSONL body, positioned in the decoded text. */
export interface OpenText {
  chunks: AsyncIterator<Uint8Array>;
  etag: string;
  close: () => void;
}

/** A body left open where a page stopped, with the bytes already read from there on. */
export interface ReadAhead {
  key: string;
  offset: number;
  rest: Buffer | undefined;
  text: OpenText;
}

async function* skipBytes(source: AsyncIterable<Uint8Array>, count: number): AsyncGenerator<Uint8Array> {
  let left = count;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/** A corrupt gzip stream is a config error naming the object, not a bare zlib error. */
const inflateErrorsNamed = (
  chunks: AsyncIterator<Uint8Array>,
  ref: S3FileRef,
): AsyncIterator<Uint8Array> => ({
  next: async () => {
    try {
      return await chunks.next();
    } catch (error) {
      if (!(error as { code?: string }).code?.startsWith('Z_')) throw error;
      throw new SegmentSourceConfigError(
        `s3://${ref.bucket}/${ref.key} is not valid gzip: ${(error as Error).message}`,
      );
    }
  },
});

/**
 * Opens a CSV or JSONL object at `offset` of its decoded text. A plain object is read by one ranged
 * GetObject from that offset. A gzip object cannot be entered mid-stream: it is decompressed from
 * its start and the bytes before the offset are dropped, so resuming page k of a gzip file in a new
 * source costs k pages of decompression (the source's read-ahead avoids it between pages).
 */
export const openText = async (ref: S3FileRef, offset: number, ifMatch?: string): Promise<OpenText> => {
  const gzip = ref.file.gzip === true;
  const body = await openObject(ref.client, ref.bucket, ref.key, gzip ? 0 : offset, ifMatch);
  const bytes: Readable = decoded(body.stream, gzip);
  const source = gzip && offset > 0 ? skipBytes(bytes, offset) : bytes;
  return {
    chunks: gzip ? inflateErrorsNamed(source[Symbol.asyncIterator](), ref) : source[Symbol.asyncIterator](),
    etag: body.etag,
    close: () => {
      bytes.destroy();
      body.stream.destroy();
    },
  };
};

/**
 * Reads up to `limit` rows of one file into `page`; malformed rows become skips labelled
 * `<key>:line:<n>`. Returns where the next page starts (done at the end of the file) and, when it
 * stopped early, the still-open body for the next page to go on with.
 */
export const readTextRows = async (
  ref: S3FileRef,
  idField: string,
  from: TextPosition,
  limit: number,
  page: SegmentPage,
  options: { label: string; ifMatch?: string; ahead?: ReadAhead },
): Promise<{ result: FileReadResult; rows: number; ahead?: ReadAhead }> => {
  const { ahead, label, ifMatch } = options;
  const reuse =
    ahead &&
    ahead.key === ref.key &&
    ahead.offset === from.offset &&
    (ifMatch === undefined || ifMatch === ahead.text.etag);
  if (ahead && !reuse) ahead.text.close();
  const text = reuse ? ahead.text : await openText(ref, from.offset, ifMatch);
  let header = from.header;
  let rows = 0;
  const entry = { id: ref.segmentId, name: ref.segmentId, file: label };
  const onRecord = (record: RawRecord): boolean => {
    if (ref.file.format === 'csv' && header === undefined) {
      header = parseHeader(idField, record, entry);
      return true;
    }
    if (rows === limit) return false;
    rows++;
    const before = page.skipped.length;
    if (ref.file.format === 'csv') csvRow(idField, record, header ?? [], page);
    else jsonRow(idField, record, page);
    for (let i = before; i < page.skipped.length; i++) {
      const skip = page.skipped[i];
      if (skip) skip.profileId = `${label}:${skip.profileId}`;
    }
    return true;
  };
  let kept = false;
  try {
    const format = ref.file.format === 'csv' ? 'csv' : 'jsonl';
    const { stoppedAt, rest } = await scanChunks(
      text.chunks,
      format,
      from,
      onRecord,
      reuse ? ahead.rest : undefined,
    );
    if (!stoppedAt) return { result: { done: true }, rows };
    kept = true;
    return {
      result: { done: false, at: { ...stoppedAt, header }, etag: text.etag },
      rows,
      ahead: { key: ref.key, offset: stoppedAt.offset, rest, text },
    };
  } finally {
    if (!kept) text.close();
  }
};
