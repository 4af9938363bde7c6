import { brotliCompressSync, gzipSync, zstdCompressSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3SegmentSource } from '#lib/adapters/segments/s3-segment-source.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { type SampleProfile, toSourceProfile } from '#local/sample-data.ts';
import { uniqueName } from '#test/support/aws.ts';
import { ProfileDigest } from '#test/support/profile-digest.ts';
import { createBucket, localS3, putRefresh } from '#test/support/s3.ts';
import { uploadSegmentFile } from '#test/support/segment-files.ts';
import { syntheticRows } from '#test/support/synthetic-rows.ts';

/*
 * Flat Parquet files are read a data page at a time (lib/adapters/segments/s3-parquet-pages.ts):
 * every value must come out as hyparquet's own reader gives it, wherever pages, row groups, fetch
 * windows and the planner's pages fall relative to one another.
 */

/** hyparquet reads the footer from this many bytes at the end of the file (its `initialFetchSize`). */
const FOOTER_FETCH_BYTES = 512 * 1024;

let s3: S3Client;
let bucket: string;
/** GetObject calls and body bytes of `counted`. */
const fetched = { gets: 0, bytes: 0 };
let counted: S3Client;

beforeAll(async () => {
  s3 = localS3();
  bucket = await createBucket(s3);
  counted = localS3();
  counted.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'GetObjectCommand') {
        fetched.gets++;
        fetched.bytes += (out.output as { ContentLength?: number }).ContentLength ?? 0;
      }
      return out;
    },
    { step: 'initialize' },
  );
});

const manifest = (refreshId: string) => ({
  refreshId,
  createdAt: '2026-12-03T10:00:00Z',
  segments: [{ id: 'people', name: 'People', files: [{ key: 'people.parquet', format: 'parquet' }] }],
});

/** A refresh holding `rows` as one Parquet file; returns its id and the file's size. */
const parquetRefresh = async (
  rows: Iterable<SampleProfile>,
  layout: { rowGroupRows: number; pageBytes: number },
): Promise<{ refreshId: string; bytes: number }> => {
  const refreshId = uniqueName('r-pq-pages');
  const bytes = await uploadSegmentFile(s3, bucket, `refreshes/${refreshId}/people.parquet`, rows, {
    format: 'parquet',
    ...layout,
  });
  await putRefresh(s3, bucket, refreshId, manifest(refreshId), {});
  return { refreshId, bytes };
};

/**
 * Reads the whole segment `limit` rows at a time, with a new source every `pagesPerSource` pages
 * from a cursor that went through JSON, as a planner resuming in another invocation would.
 */
const readAll = async (
  refreshId: string,
  limit: number,
  pagesPerSource: number,
  onPage: (page: SegmentPage) => void,
  client: S3Client = s3,
): Promise<number> => {
  let cursor: string | undefined;
  let pages = 0;
  do {
    const source = new S3SegmentSource({ client, bucket, refreshId });
    for (let n = 0; n < pagesPerSource; n++) {
      const page = await source.readPage('people', cursor, limit);
      pages++;
      expect(page.profiles.length + page.skipped.length).toBeLessThanOrEqual(limit);
      onPage(page);
      cursor = page.next;
      if (cursor === undefined) break;
    }
    cursor = cursor === undefined ? undefined : (JSON.parse(JSON.stringify({ cursor })).cursor as string);
  } while (cursor !== undefined && pages < 100_000);
  return pages;
};

/** An order-independent digest of whole profiles (every attribute), so large reads need no deep equality. */
const addProfile = (digest: ProfileDigest, p: SourceProfile): void =>
  digest.add(p.id, JSON.stringify(p.attributes, Object.keys(p.attributes).sort()));

describe('S3SegmentSource over Parquet data pages', () => {
  it.each([
    { limit: 1000, pagesPerSource: 3 },
    { limit: 333, pagesPerSource: 1 },
  ])(
    'yields every row as written (typed values, nulls, many pages per column, five row groups) resuming mid-page (limit $limit, a new source every $pagesPerSource pages)',
    async ({ limit, pagesPerSource }) => {
      const rows = [...syntheticRows(30_000, 11)];
      // 16 KiB pages: a few hundred values each, so neither pages nor row groups line up with `limit`.
      const { refreshId } = await parquetRefresh(rows, { rowGroupRows: 7_000, pageBytes: 16 * 1024 });
      const read: SourceProfile[] = [];
      const pages = await readAll(refreshId, limit, pagesPerSource, (page) => {
        expect(page.skipped).toEqual([]);
        read.push(...page.profiles);
      });
      expect(pages).toBe(Math.ceil(rows.length / limit));
      expect(read).toEqual(rows.map(toSourceProfile));
      expect(rows.some((r) => r.company === undefined)).toBe(true);
    },
  );

  it.each([
    { pageKiB: 64, what: 'many pages per column' },
    { pageKiB: 8192, what: 'pages larger than a fetch window' },
  ])('reads a 150,000-row group page by page ($what), fetching each byte about once', async ({ pageKiB }) => {
    const expected = new ProfileDigest();
    const rows = function* () {
      for (const row of syntheticRows(150_000, 12)) {
        addProfile(expected, toSourceProfile(row));
        yield row;
      }
    };
    const { refreshId, bytes } = await parquetRefresh(rows(), {
      rowGroupRows: 150_000,
      pageBytes: pageKiB * 1024,
    });
    const read = new ProfileDigest();
    const before = { ...fetched };
    await readAll(
      refreshId,
      1000,
      Number.POSITIVE_INFINITY,
      (page) => {
        for (const p of page.profiles) addProfile(read, p);
      },
      counted,
    );
    expect(read.value).toBe(expected.value);
    const bytesRead = fetched.bytes - before.bytes;
    console.info(
      `parquet ${pageKiB} KiB pages: ${bytes} bytes, ${fetched.gets - before.gets} GETs, ${bytesRead} bytes fetched`,
    );
    // Every data byte once (a window keeps what it holds of a page running past its end), plus
    // the footer read, which fetches the file's last 512 KiB first.
    expect(bytesRead).toBeLessThanOrEqual(bytes + FOOTER_FETCH_BYTES);
  });

  it("reads a file with a nested column through hyparquet's row reader", async () => {
    const refreshId = uniqueName('r-pq-nested');
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['a', 'b', 'c'] },
        { name: 'tags', data: [['x', 'y'], [], null] },
      ],
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'tags', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
    });
    await putRefresh(s3, bucket, refreshId, manifest(refreshId), { 'people.parquet': new Uint8Array(file) });
    const read: SourceProfile[] = [];
    await readAll(refreshId, 2, 1, (page) => read.push(...page.profiles));
    expect(read).toEqual([
      { id: 'a', attributes: { tags: ['x', 'y'] } },
      { id: 'b', attributes: { tags: [] } },
      { id: 'c', attributes: {} },
    ]);
  });
});

describe('S3SegmentSource over Parquet codecs', () => {
  const columnData = [
    { name: 'id', data: ['a', 'b', 'c', 'd'] },
    { name: 'email', data: ['a@example.com', null, 'c@example.com', 'd@example.com'] },
    { name: 'plan', data: ['pro', 'free', 'pro', null] },
    { name: 'seats', data: [1, 2, null, 4], type: 'INT32' as const },
  ];
  const expected: SourceProfile[] = [
    { id: 'a', attributes: { email: 'a@example.com', plan: 'pro', seats: 1 } },
    { id: 'b', attributes: { plan: 'free', seats: 2 } },
    { id: 'c', attributes: { email: 'c@example.com', plan: 'pro' } },
    { id: 'd', attributes: { email: 'd@example.com', seats: 4 } },
  ];
  const refreshOf = async (codec: string, compress: (bytes: Uint8Array) => Uint8Array): Promise<string> => {
    const refreshId = uniqueName(`r-pq-${codec.toLowerCase()}`);
    const file = parquetWriteBuffer({
      columnData,
      codec: codec as 'GZIP',
      compressors: { [codec]: compress },
    });
    await putRefresh(s3, bucket, refreshId, manifest(refreshId), { 'people.parquet': new Uint8Array(file) });
    return refreshId;
  };

  it.each([
    { codec: 'GZIP', compress: (b: Uint8Array) => gzipSync(b) },
    { codec: 'BROTLI', compress: (b: Uint8Array) => brotliCompressSync(b) },
    { codec: 'ZSTD', compress: (b: Uint8Array) => zstdCompressSync(b) },
  ])("reads $codec pages with Node's own zlib", async ({ codec, compress }) => {
    const refreshId = await refreshOf(codec, compress);
    const read: SourceProfile[] = [];
    await readAll(refreshId, 3, 1, (page) => read.push(...page.profiles));
    expect(read).toEqual(expected);
  });

  it('reads uncompressed column chunks larger than a fetch window as hyparquet does', async () => {
    // Uncompressed pages are read where they were fetched, and each column's window is reused
    // fetch after fetch: 3 MB chunks of 4 KiB pages cross many windows.
    const rows = 40_000;
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Array.from({ length: rows }, (_, i) => `c-${i}`) },
        {
          name: 'note',
          data: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : `${i}`.padEnd(70, 'n'))),
        },
        { name: 'seats', data: Array.from({ length: rows }, (_, i) => (i * 7919) % 13), type: 'INT32' },
        { name: 'score', data: Array.from({ length: rows }, (_, i) => i / 3), type: 'DOUBLE' },
      ],
      codec: 'UNCOMPRESSED',
      pageSize: 4096,
      rowGroupSize: 25_000,
    });
    const refreshId = uniqueName('r-pq-uncompressed');
    await putRefresh(s3, bucket, refreshId, manifest(refreshId), { 'people.parquet': new Uint8Array(file) });
    const expected = (await parquetReadObjects({ file })).map(({ id, ...rest }) => ({
      id,
      attributes: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null)),
    }));
    const read: SourceProfile[] = [];
    await readAll(refreshId, 999, 4, (page) => read.push(...page.profiles));
    expect(read).toEqual(expected);
    expect(read).toHaveLength(rows);
  });

  it('fails a file compressed with a codec it cannot read, naming the column and the codec', async () => {
    // The bytes are never inflated: the footer alone condemns the file.
    const refreshId = await refreshOf('LZ4_RAW', (b) => b);
    const source = new S3SegmentSource({ client: s3, bucket, refreshId });
    await expect(source.readPage('people', undefined, 10)).rejects.toThrow(
      /people\.parquet: column "id" is compressed with LZ4_RAW, which the Parquet reader cannot decompress \(it reads UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD\)/,
    );
  });
});
